"""The MCP inspector: /mcp in three tabs (tools, logs, stats), a tool's dialog (/mcp/tools/<id>) and a
call's (/mcp/logs/<id>). They read through apps.mcp.selectors, as /api/mcp does.

Each view renders the partial of the element htmx targets (HX-Target), else the whole page, so every
tab, filtered list, page and dialog has a real URL.
"""

from datetime import date, timedelta

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.views.decorators.http import require_GET

from apps.core.htmx import htmx_target, render_htmx
from apps.mcp import selectors
from apps.mcp.models import LogType
from apps.mcp.serializers import McpLogFilter

TABS = ("tools", "logs", "stats")
LOGS_PAGE_SIZE = 50
LOG_FILTERS = ("tool_id", "log_type", "run_id", "server_name", "schema_violation")
PERIOD_LABELS = {"24h": "Last 24 hours", "7d": "Last 7 days", "30d": "Last 30 days"}


def _page(request, tab: str, **extra):
    """The whole page on `tab` (a dialog in `extra` opens over it), or the part htmx asked for."""
    context = {"tab": tab, "project": request.current_project or None, **extra}
    if context["project"] is not None:
        context |= {"tools": _tools_tab, "logs": _logs_tab, "stats": _stats_tab}[tab](request, context["project"])
    if tab == "logs" and htmx_target(request) == "mcp-logs-results":
        return render_htmx(request, "mcp/_logs.html", context, partial="results")
    return render_htmx(request, "mcp/index.html", context, partial={"mcp-body": "body"})


@login_required
@require_GET
def index(request):
    return _page(request, _tab(request.GET))


@login_required
@require_GET
def tool_detail(request, tool_id):
    tool = selectors.tool_detail(user=request.user, tool_id=tool_id)
    if htmx_target(request) == "mcp-dialog-slot":
        return render_htmx(request, "mcp/_tool_dialog.html", {"tool": tool})
    return _page(request, "tools", tool=tool)


@login_required
@require_GET
def log_detail(request, log_id):
    log = selectors.log_get(user=request.user, log_id=log_id)
    if htmx_target(request) == "mcp-dialog-slot":
        return render_htmx(request, "mcp/_log_dialog.html", {"log": log})
    return _page(request, "logs", log=log)


def _tab(query) -> str:
    """The tab asked for; without one, a query of log filters or a page means logs, a period stats."""
    if query.get("tab") in TABS:
        return query["tab"]
    if query.keys() & {"page", "from", "to", *LOG_FILTERS}:
        return "logs"
    return "stats" if "period" in query else "tools"


# The tabs ----------------------------------------------------------------------------------------


def _tools_tab(request, project) -> dict:
    return {"tool_list": list(selectors.tools_for_project(project=project))}


def _log_filters(query) -> tuple[dict, dict]:
    """Valid filters, and the errors of those left out (a bad run id drops that filter, not the page).
    The dates are whole days: `to` includes its day."""
    data = {key: query[key].strip() for key in LOG_FILTERS if query.get(key, "").strip()}
    if _day(query.get("from")):
        data["created_after"] = _day(query["from"]).isoformat()
    if _day(query.get("to")):
        data["created_before"] = (_day(query["to"]) + timedelta(days=1)).isoformat()
    serializer = McpLogFilter(data=data)
    if serializer.is_valid():
        return _present(serializer.validated_data), {}
    errors = serializer.errors
    retry = McpLogFilter(data={key: value for key, value in data.items() if key not in errors})
    return (_present(retry.validated_data) if retry.is_valid() else {}), errors


def _day(value) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _present(filters: dict) -> dict:
    return {key: value for key, value in filters.items() if value is not None}


def _logs_tab(request, project) -> dict:
    filters, errors = _log_filters(request.GET)
    logs = selectors.logs_for_project(project=project, **filters)
    page = Paginator(logs, LOGS_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page_obj": page,
        "filters": request.GET,
        "filter_errors": errors,
        "filtered": bool(filters),
        "log_types": LogType.values,
    }
    if not page.object_list:
        context["has_logs"] = bool(filters) and selectors.logs_for_project(project=project).exists()
    if htmx_target(request) != "mcp-logs-results":
        # The filter's choices: the project's tools, without their counts (already scoped by project).
        choices = list(project.mcp_tools.order_by("tool_name").values_list("pk", "tool_name", "server_name"))
        context["tool_choices"] = [(str(pk), name) for pk, name, _ in choices]
        context["server_choices"] = sorted({server for _, _, server in choices if server})
    return context


def _stats_tab(request, project) -> dict:
    period = request.GET.get("period")
    period = period if period in selectors.PERIODS else selectors.DEFAULT_PERIOD
    stats = selectors.mcp_stats(project=project, period=period)
    context = {"stats": stats, "period": period, "periods": PERIOD_LABELS, "period_label": PERIOD_LABELS[period]}
    if not stats["total_calls"]:
        context["has_logs"] = selectors.logs_for_project(project=project).exists()
    return context
