from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect

from apps.core.htmx import render_htmx
from apps.core.replica import replica_reads
from apps.dashboard.selectors import DEFAULT_PERIOD, PERIODS, project_stats, runs_chart, runs_recent

PARTIALS = {"dashboard-stats": "stats", "dashboard-body": "body"}


def home(request):
    return redirect("dashboard:index" if request.user.is_authenticated else "accounts:login")


@login_required
@replica_reads
def index(request):
    project = request.current_project or None
    period = request.GET.get("period") if request.GET.get("period") in PERIODS else DEFAULT_PERIOD
    context = {
        "period": period,
        "period_label": PERIODS[period],
        "span_label": PERIODS[period].removeprefix("Last "),
        "periods": PERIODS,
        "base_url": request.build_absolute_uri("/").rstrip("/"),
    }
    if project:
        stats = project_stats(project=project, period=period)
        context.update(
            stats=stats, chart=runs_chart(project=project, stats=stats), recent_runs=runs_recent(project=project)
        )
    return render_htmx(request, "dashboard/index.html", context, partial=PARTIALS)
