from apps.runs.models import RunStatus
from apps.runs.selectors import runs_in_projects


def paused_runs(request) -> dict:
    """The sidebar's badge: how many runs of the current project wait for a person. Lazy: only a
    page that draws the sidebar counts them (htmx partials and polls never do)."""
    project = getattr(request, "current_project", None)
    if not project:
        return {}
    return {"paused_runs": lambda: runs_in_projects([project.pk]).filter(status=RunStatus.PAUSED).count()}
