from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from apps.dashboard.selectors import project_stats


def home(request):
    return redirect("dashboard:index" if request.user.is_authenticated else "accounts:login")


@login_required
def index(request):
    project = request.current_project
    stats = project_stats(project=project) if project else None
    return render(request, "dashboard/index.html", {"stats": stats})
