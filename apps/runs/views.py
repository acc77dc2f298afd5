"""The runs pages: the list (/runs), the run debugger (/runs/<id>) and its parts.

The list renders only its results when htmx asks for them (HX-Target). The debugger's parts each
have a URL and a view of their own (header, inspector, timeline, a page of the timeline), which
render one named partial of runs/detail.html; opened without htmx, they redirect to the page.
"""

import json
from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect, push_url, reswap, trigger_client_event

from apps.core.errors import ApplicationError
from apps.core.htmx import htmx_target, htmx_wants_part, render_htmx
from apps.core.replica import replica_reads
from apps.core.timing import ms_between
from apps.orgs.audit import actor_from_request
from apps.runs import search, selectors, services, sessions
from apps.runs.compare import runs_compare
from apps.runs.events import SEARCHED_RUN_FIELDS, SEARCHED_STEP_FIELDS
from apps.runs.inspection import chat_messages, chat_reply, error_view, step_model, step_usage, turn_text
from apps.runs.models import RunStatus, StepStatus, StepType
from apps.runs.registry import HEADER, run_page
from apps.runs.registry import run_list as registered_list
from apps.runs.replay import UNSET, replay_command, run_replay_create
from apps.runs.serializers import RUNS_PAGE_SIZE, TIMELINE_PAGE_SIZE, RunFilterInput
from apps.runs.timeline import LIVE, run_span_ms, timeline_steps, timeline_window

STATUSES = [RunStatus.RUNNING, RunStatus.PAUSED, RunStatus.PENDING, RunStatus.COMPLETED, RunStatus.FAILED]
ERROR_CHOICES = (("true", "With failed steps"), ("false", "No failed steps"))
# The list's filters behind "More filters": (name, label, input type, placeholder)
TEXT_FILTERS = [
    {"name": name, "label": label, "type": kind, "placeholder": placeholder, "decimal": name.startswith("cost")}
    for name, label, kind, placeholder in (
        ("tool", "Tool", "text", "get_weather"),
        ("model", "Model", "text", "gpt-4o-mini"),
        ("metadata", "Metadata", "text", "env=production"),
        ("session_id", "Session", "text", "session id"),
        ("user_id", "User", "text", "user id"),
        ("latency_min", "Latency from (ms)", "number", "0"),
        ("latency_max", "Latency to (ms)", "number", "any"),
        ("tokens_min", "Tokens from", "number", "0"),
        ("tokens_max", "Tokens to", "number", "any"),
        ("cost_min", "Cost from ($)", "number", "0.00"),
        ("cost_max", "Cost to ($)", "number", "any"),
    )
]
MAX_TRACKED = 50  # running steps a live timeline keeps refreshing


# The list ----------------------------------------------------------------------------------------


def _list_filters(query) -> tuple[dict, dict]:
    """Valid filters, and the errors of those left out (a bad date drops that filter, not the page)."""
    data = {key: value for key, value in query.items() if value.strip() and key != "project_id"}
    serializer = RunFilterInput(data=data)
    if serializer.is_valid():
        return serializer.validated_data, {}
    errors = serializer.errors
    retry = RunFilterInput(data={key: value for key, value in data.items() if key not in errors})
    return (retry.validated_data if retry.is_valid() else {}), errors


@login_required
@replica_reads
def run_list(request):
    project = request.current_project or None
    context = {"project": project, "statuses": STATUSES, "page_size": RUNS_PAGE_SIZE}
    if project is not None:
        filters, errors = _list_filters(request.GET)
        runs = selectors.runs_for_filters(project_ids=[project.pk], filters=filters)
        # the filters the apps above runs add
        runs, chosen = registered_list.filtered(runs, request.GET, project_ids=[project.pk])
        try:
            cursor = selectors.RunCursor.decode(filters["cursor"]) if filters.get("cursor") else None
        except ValueError:
            cursor, errors = None, {**errors, "cursor": ["That page link is stale: showing the newest runs."]}
        page = selectors.runs_page(
            selectors.runs_preview_rows(runs), cursor=cursor, size=filters.get("page_size", RUNS_PAGE_SIZE)
        )
        filtered = bool(chosen) or any(filters.get(key) not in (None, "") for key in selectors.FILTER_KEYS)
        context |= {
            "page": page,
            "filters": request.GET,
            "filter_errors": errors,
            "filtered": filtered,
            "has_runs": bool(page.runs) or (filtered and selectors.runs_in_projects([project.pk]).exists()),
            "columns": registered_list.columns(runs=page.runs),
            "hits": selectors.search_hits(runs=page.runs, q=filters.get("q")),
            "error_choices": ERROR_CHOICES,
            "text_filters": TEXT_FILTERS,
            "more_filters": sum(1 for field in TEXT_FILTERS if request.GET.get(field["name"], "").strip()),
        }
        if htmx_target(request) != "runs-results":
            context["agent_names"] = selectors.run_agent_names(project_ids=[project.pk])
            context["list_filters"] = registered_list.filters(project_ids=[project.pk])
    return render_htmx(request, "runs/list.html", context, partial={"runs-results": "results"})


@login_required
@require_POST
def run_delete(request, run_id):
    """From a row of the list (htmx: the row goes, a toast says so) or from the run page (a redirect)."""
    run = selectors.run_get_for_user(user=request.user, run_id=run_id, action="run.delete")
    services.run_delete(run=run, actor=actor_from_request(request))
    steps = f"{run.step_count:,} step{'' if run.step_count == 1 else 's'}"
    message = f"Run of {run.agent_name or 'an unnamed agent'} deleted, with its {steps}."
    if request.htmx:
        response = HttpResponse("")
        trigger_client_event(response, "toast", {"level": "success", "message": message})
        return response
    messages.success(request, message)
    return redirect("runs:list")


# The run debugger --------------------------------------------------------------------------------

TAB_LABELS = {"input": "Input", "output": "Output", "metadata": "Metadata", "error": "Error"}
EMPTY_TEXT = {"input": "No input", "output": "No output", "metadata": "No metadata", "error": "No error"}


def _int(value) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _timeline_filters(query) -> dict:
    kind = query.get("type", "")
    return {"type": kind if kind in StepType.values else "", "q": query.get("q", "").strip()[:255]}


def _window_for(run, *, filters: dict, **position):
    steps = timeline_steps(run=run, step_type=filters["type"] or None, name=filters["q"] or None)
    flat = bool(filters["type"] or filters["q"])
    return timeline_window(run=run, steps=steps, size=TIMELINE_PAGE_SIZE, flat=flat, **position)


def _axis(total_ms: int) -> dict:
    return {"total_ms": total_ms, "ticks": [total_ms * share / 4 for share in range(5)]}


def _timeline_context(run, *, filters: dict, window, selected: int | None = None, after: int = -1) -> dict:
    kept = urlencode({key: value for key, value in filters.items() if value})
    return {
        "window": window,
        "entries": window.entries,
        "parents": {entry.parent_id for entry in window.entries if entry.parent_id},
        "filters": filters,
        "filtered": bool(filters["type"] or filters["q"]),
        "selected": selected,
        "detail_url": reverse("runs:detail", args=[run.pk]),
        "timeline_url": reverse("runs:timeline", args=[run.pk]),
        "timeline_page_url": reverse("runs:timeline_page", args=[run.pk]),
        "inspector_url": reverse("runs:inspector", args=[run.pk]),
        "step_query": f"&{kept}" if kept else "",
        "filter_query": kept,
        "step_types": StepType.choices,
        "tail_after": window.last_index if window.entries else after,
        "running": ",".join(map(str, window.running_indexes[:MAX_TRACKED])),
        # what the apps above runs record on the steps shown (pauses at breakpoints), as rows
        "events": run_page.timeline_events(run=run, first=window.first_index, last=window.last_index),
        **_axis(window.total_ms),
    }


def _inspector_context(run, index: int | None, window=None) -> dict:
    step = selectors.step_at(run=run, index=index) if index is not None else None
    subject = step or run
    error = error_view(subject.error)
    values = {"input": subject.input, "output": subject.output, "metadata": subject.metadata, "error": subject.error}
    tabs = [
        {
            "key": key,
            "label": TAB_LABELS[key],
            "value": value,
            "empty": value in (None, {}, [], ""),
            "json_label": f"{TAB_LABELS[key]} JSON",
            "empty_text": EMPTY_TEXT[key],
        }
        for key, value in values.items()
    ]
    parent = None
    if step is not None and step.parent_id:
        shown = {entry.id: entry for entry in window.entries} if window else {}
        parent = shown.get(step.parent_id) or selectors.step_parent(step=step)
    return {
        "step": step,
        "missing_step": index if index is not None and step is None else None,
        "tabs": tabs,
        "tab": "error" if error else next((tab["key"] for tab in tabs if not tab["empty"]), "input"),
        "error": error,
        "chat_in": chat_messages(subject.input),
        "chat_out": chat_reply(subject.output),
        "usage": step_usage(metadata=subject.metadata, output=subject.output),
        "model": step_model(metadata=subject.metadata, input=subject.input, output=subject.output),
        "parent": parent,
        "offset_ms": ms_between(run.started_at, step.started_at or step.created_at) if step else None,
        "watch": run.status in LIVE and (step is None or step.status == StepStatus.RUNNING),
        # a replay's steps before its fork are copies of the recorded run's
        "copied": step is not None and run.replay_from_step is not None and step.step_index < run.replay_from_step,
    }


def _found_context(subject, query: str) -> dict:
    """From a search's results (`?find=`): where the words are in the step (or run) opened, marked."""
    try:
        parsed = search.search_query_parse(query) if query.strip() else None
    except ApplicationError:
        parsed = None
    if parsed is None:
        return {}
    fields = SEARCHED_STEP_FIELDS if hasattr(subject, "step_index") else SEARCHED_RUN_FIELDS
    found = search.snippet([getattr(subject, name, None) for name in fields], parsed)
    return {"found": found, "found_query": query.strip()} if found else {}


def _unchanged(run, index: int | None) -> bool:
    """Whether what a watching inspector shows is still in progress: the live run, or its running step."""
    if run.status not in LIVE:
        return False
    if index is None:
        return True
    step = selectors.step_at(run=run, index=index)
    return step is not None and step.status == StepStatus.RUNNING


def _page_url(run, query) -> str:
    """The run page with `query`: what the address bar shows for a part of the page (a fragment URL
    opened without htmx redirects here, and htmx pushes it when a step or a filter is chosen)."""
    query = query.copy()
    query.pop("watch", None)
    url = reverse("runs:detail", args=[run.pk])
    return f"{url}?{query.urlencode()}" if query else url


def run_part(view):
    """A part of the run page at a URL of its own: the view gets the caller's run (else 404), and
    opened without htmx, the URL shows the whole page instead (with the same query)."""

    @login_required
    @replica_reads
    @wraps(view)
    def part(request, run_id):
        run = selectors.run_get_for_user(user=request.user, run_id=run_id)
        if not htmx_wants_part(request):
            return redirect(_page_url(run, request.GET))
        return view(request, run)

    return part


def _run_context(run, *, oob: bool) -> dict:
    """What every part of the run page reads. `oob`: a part sent alone also redraws its pieces that
    live elsewhere on the page (the axis, the run's row, the selected step), out of band."""
    return {"run": run, "live": run.status in LIVE, "span_ms": run_span_ms(run=run), "oob": oob, "first_error": None}


def _header_context(run) -> dict:
    """The header's numbers and, for a failed run, its error where the eye lands first: the run's
    own, else its first failed step's."""
    context = {"run_error": error_view(run.error) if run.status == RunStatus.FAILED else None}
    if run.error_count:
        index, step_error = selectors.first_error(run=run) or (None, None)
        context["first_error"] = index
        if run.status == RunStatus.FAILED and context["run_error"] is None:
            context |= {"run_error": error_view(step_error), "run_error_step": index}
    if run.status == RunStatus.PENDING and run.replay_from_step is not None:
        context["pending_command"] = replay_command(run)  # shown until the SDK picks the replay up
    return context


def _timeline_section_context(run, query, *, selected: int | None) -> dict:
    """The timeline's filters, axis and first window: around the selected step, unless filtered."""
    filters = _timeline_filters(query)
    around = None if filters["type"] or filters["q"] else selected
    window = _window_for(run, filters=filters, around=around)
    return _timeline_context(run, filters=filters, window=window, selected=selected)


@login_required
@replica_reads
def run_detail(request, run_id):
    """The debugger: header, timeline (around `?step=n`) and inspector (that step, else the run).
    Each part also has a URL of its own, which htmx asks when only that part changes."""
    run = selectors.run_get_for_user(user=request.user, run_id=run_id)
    index = _int(request.GET.get("step"))
    context = _run_context(run, oob=False) | _header_context(run)
    context |= _timeline_section_context(run, request.GET, selected=index)
    context |= _inspector_context(run, index, context["window"])
    context |= _replay_context(run, index, shown=context["step"])
    context |= _found_context(context["step"] or run, request.GET.get("find", ""))
    context["panels"] = run_page.shown(request=request, run=run)
    context["header_panels"] = [shown for shown in context["panels"] if shown.panel.place == HEADER]
    return render(request, "runs/detail.html", context)


@run_part
def run_header(request, run):
    """The header alone, polled while the run is live: status, counters, and the axis and the run's
    row of the timeline, which grow with it."""
    if run.replay_of_id and run.status not in LIVE:
        # A replay the page watched has ended: what the person waits for is how it differs.
        return HttpResponseClientRedirect(reverse("runs:compare", args=[run.replay_of_id, run.pk]))
    context = _run_context(run, oob=True) | _header_context(run)
    context["header_panels"] = run_page.shown(request=request, run=run, place=HEADER)
    return render_htmx(request, "runs/detail.html", context | _axis(context["span_ms"]), partial="run_header")


@run_part
def run_inspector(request, run):
    """One step (`?step=n`) or the run, asked for from the timeline (the URL pushed is the page's);
    polled with `watch=1` while what it shows is in progress, a 204 while nothing changed."""
    index, watching = _int(request.GET.get("step")), bool(request.GET.get("watch"))
    if watching and _unchanged(run, index):
        return HttpResponse(status=204)  # nothing new: htmx leaves the inspector as it is
    context = _run_context(run, oob=True) | _inspector_context(run, index)
    response = render_htmx(request, "runs/detail.html", context, partial="inspector")
    if not watching:
        # The link that asked takes the swap and the URL from the timeline around it, which a live
        # poll may have redrawn (and the link with it) before this answer lands; htmx would then
        # swap into the old inspector and push nothing. Say both here.
        push_url(reswap(response, "outerHTML"), _page_url(run, request.GET))
    return response


@run_part
def run_timeline(request, run):
    """The timeline filtered by `type` and `q`, around `?step=n` (the URL pushed is the page's)."""
    context = _run_context(run, oob=True)
    context |= _timeline_section_context(run, request.GET, selected=_int(request.GET.get("step")))
    return push_url(render_htmx(request, "runs/detail.html", context, partial="timeline"), _page_url(run, request.GET))


@login_required
@replica_reads
def run_timeline_page(request, run_id):
    """More of the timeline: the steps after (`after`) or before (`before`) an index. Polled at the
    end of a live run, it also redraws the steps the page still shows as running (`running`)."""
    run = selectors.run_get_for_user(user=request.user, run_id=run_id)
    after, before = _int(request.GET.get("after")), _int(request.GET.get("before"))
    filters = _timeline_filters(request.GET)
    if not htmx_wants_part(request):
        step = before - 1 if before is not None else (after if after is not None else -1) + 1
        query = urlencode({"step": max(step, 0), **{key: value for key, value in filters.items() if value}})
        return redirect(f"{reverse('runs:detail', args=[run.pk])}?{query}")
    before = before if after is None else None
    window = _window_for(run, filters=filters, after=after, before=before)
    context = {"run": run, "live": run.status in LIVE, "direction": "before" if before is not None else "after"}
    context |= _timeline_context(run, filters=filters, window=window, after=after if after is not None else -1)
    context |= _refresh_running(run, request.GET.get("running", ""), filters=filters, window=window)
    return render_htmx(request, "runs/detail.html", context, partial="timeline_page")


def _refresh_running(run, tracked: str, *, filters: dict, window) -> dict:
    """The steps the page shows as running, drawn again (they may have ended), and the running
    steps the next poll must look at."""
    indexes = [index for index in map(_int, tracked.split(",")[:MAX_TRACKED]) if index is not None]
    refreshed = []
    if indexes:
        steps = timeline_steps(run=run, step_type=filters["type"] or None, name=filters["q"] or None)
        flat = bool(filters["type"] or filters["q"])
        refreshed = timeline_window(
            run=run, steps=steps.filter(step_index__in=indexes), size=MAX_TRACKED, flat=flat
        ).entries
    still = {entry.index for entry in refreshed if entry.status == StepStatus.RUNNING}
    running = sorted(still | set(window.running_indexes))[:MAX_TRACKED]
    context = {"refreshed": refreshed, "running": ",".join(map(str, running))}
    if refreshed:  # a step that waited at a breakpoint: its pause is drawn again with it
        first, last = min(indexes), max(indexes)
        context["refreshed_events"] = run_page.timeline_events(run=run, first=first, last=last)
    return context


# Replay and compare ------------------------------------------------------------------------------

REPLAY_STEP_CHOICES = 1000  # the modal lists this many steps; past them the index is typed
JSON_FIELDS = {"input": "Run input", "step_input": "Step input", "step_output": "Step output"}


def _replay_context(run, index: int | None, shown=None) -> dict:
    """The Replay dialog (steps to start from, the default step's input) and the run's replays.
    `shown` is the step the inspector shows, when it is the one to start from."""
    steps = list(
        selectors.steps_for_run(run=run)
        .order_by("step_index")
        .values_list("step_index", "step_type", "name")[:REPLAY_STEP_CHOICES]
    )
    start = index if index is not None and 0 <= index < run.step_count else 0
    fork = shown if shown is not None and shown.step_index == start else selectors.step_at(run=run, index=start)
    return {
        "replay_steps": steps,
        "replay_form": {
            "from_step": start,
            "input": _pretty(run.input),
            "step_input": _pretty(fork.input if fork else None),
            "step_output": "",
        },
        "replays": selectors.replays_of(run=run),
    }


def _pretty(value) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def _replay_fields(post) -> tuple[dict, dict]:
    """The replay's arguments from the dialog's form, and the errors by field."""
    data, errors = {}, {}
    try:
        data["from_step"] = int(post.get("from_step", ""))
    except ValueError:
        errors["from_step"] = ["Choose the step to start from."]
    for field, label in JSON_FIELDS.items():
        text = post.get(field, "").strip()
        if not text or (field == "step_output" and not post.get("use_step_output")):
            continue
        try:
            data[field] = json.loads(text)
        except ValueError as exc:
            errors[field] = [f"{label} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})."]
    return data, errors


@login_required
@require_POST
def run_replay(request, run_id):
    """The Replay dialog's form: the new pending run and the command that runs it (or the errors)."""
    run = selectors.run_get_for_user(user=request.user, run_id=run_id, action="run.replay")
    data, errors = _replay_fields(request.POST)
    replay = None
    if not errors:
        try:
            replay = run_replay_create(run=run, **{key: data.get(key, UNSET) for key in ("from_step", *JSON_FIELDS)})
        except ApplicationError as exc:
            errors = exc.errors
    if replay is not None and not request.htmx:
        messages.success(request, f"Replay created: run it with {replay_command(replay)}")
        return redirect("runs:detail", replay.pk)
    if errors and not request.htmx:
        messages.error(request, " ".join(message for field in errors.values() for message in field))
        return redirect("runs:detail", run.pk)
    context = {"run": run, "replay": replay, "errors": errors, "command": replay and replay_command(replay)}
    if errors:
        context |= _replay_context(run, data.get("from_step"))
        context["replay_form"] |= {key: request.POST.get(key, "") for key in ("input", "step_input", "step_output")}
        context["replay_form"]["use_step_output"] = bool(request.POST.get("use_step_output"))
    return render(request, "runs/_replay.html#replay_body", context)


@login_required
def run_compare(request, run_id, other_id):
    a = selectors.run_get_for_user(user=request.user, run_id=run_id)
    b = selectors.run_get_for_user(user=request.user, run_id=other_id)
    return render(request, "runs/compare.html", {"diff": runs_compare(a=a, b=b)})


@login_required
def run_compare_pick(request):
    """The runs list's Compare button: two checked runs."""
    picked = request.GET.getlist("run")[:2]
    if len(picked) != 2:
        messages.error(request, "Pick two runs to compare.")
        return redirect("runs:list")
    return redirect("runs:compare", *picked)


# Sessions ----------------------------------------------------------------------------------------


@login_required
def session_list(request):
    """The current project's sessions by last activity; `cursor` pages further back."""
    project = request.current_project or None
    context = {"project": project, "page": None}
    if project is not None:
        try:
            cursor = sessions.SessionCursor.decode(request.GET["cursor"]) if request.GET.get("cursor") else None
        except ValueError:
            cursor = None
        context["page"] = sessions.sessions_page(project_ids=[project.pk], cursor=cursor)
    return render(request, "runs/sessions.html", context)


@login_required
def session_detail(request, session_id):
    """A session as one conversation, oldest turn first; htmx asks for the next turns (`cursor`)."""
    project = request.current_project or None
    if project is None:
        raise Http404("No such session.")
    found = sessions.session_get(project_ids=[project.pk], session_id=session_id)
    try:
        cursor = sessions.TurnCursor.decode(request.GET["cursor"]) if request.GET.get("cursor") else None
    except ValueError:
        cursor = None
    page = sessions.session_turns(project_ids=[project.pk], session_id=session_id, cursor=cursor)
    turns = [_turn(run) for run in page.runs]
    context = {"project": project, "session": found, "turns": turns, "later": page.later}
    return render_htmx(request, "runs/session.html", context, partial={"turns-more": "turns"})


def _turn(run) -> dict:
    """A run as one exchange of a conversation: what came in, what went out."""
    return {
        "run": run,
        "said": turn_text(run.input),
        "answered": turn_text(run.output),
        "error": error_view(run.error),
    }
