from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers

from apps.dashboard.selectors import project_stats


def home(request):
    return redirect("dashboard:index" if request.user.is_authenticated else "accounts:login")


@login_required
def index(request):
    project = request.current_project or None
    stats = project_stats(project=project) if project else None
    peak = max((day["runs"] for day in stats["runs_by_day"]), default=0) if stats else 0
    context = {"stats": stats, "peak": peak, "base_url": request.build_absolute_uri("/").rstrip("/")}
    partial = request.htmx.target == "dashboard-stats" and not request.htmx.history_restore_request
    response = render(request, "dashboard/index.html#stats" if partial else "dashboard/index.html", context)
    patch_vary_headers(response, ("HX-Request",))
    return response
