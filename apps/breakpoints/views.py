"""The /breakpoints page (list, editor, test against a recent step) and a paused run's controls.
Every write goes through `services`, the same functions the JSON API calls."""

import json
import uuid
from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import reswap, retarget, trigger_client_event

from apps.breakpoints import selectors, services
from apps.breakpoints.forms import EXAMPLES, BreakpointForm, JsonBoxError, parse_json_box
from apps.breakpoints.models import DECISIONS as ALL_DECISIONS
from apps.breakpoints.models import ConditionType, HitPhase, decisions_for
from apps.core.errors import ApplicationError
from apps.core.htmx import htmx_wants_part, render_htmx
from apps.orgs.audit import actor_from_request
from apps.projects.selectors import project_authorize
from apps.runs.selectors import run_get_for_user

LIST = "breakpoints/list.html"
CONTROLS = "breakpoints/_run_controls.html"


def _named(breakpoint) -> str:
    return f"Breakpoint “{breakpoint.name}”" if breakpoint.name else "Untitled breakpoint"


def _toast(request, response, toast: tuple[str, str] | None):
    if toast and request.htmx:
        trigger_client_event(response, "toast", {"level": toast[0], "message": toast[1]})
    return response


def _project_or_404(request, action: str = "read"):
    if not request.current_project:
        raise Http404("Create a project first.")
    project_authorize(user=request.user, project=request.current_project, action=action)
    return request.current_project


def _list_context(request, project) -> dict:
    breakpoints = selectors.breakpoints_for_user(user=request.user, project_id=project.pk) if project else []
    return {"project": project, "breakpoints": breakpoints}


def _editor_context(*, form, project, breakpoint=None, test=None) -> dict:
    action = reverse("breakpoints:edit", args=[breakpoint.pk]) if breakpoint else reverse("breakpoints:new")
    return {
        "form": form,
        "editing": breakpoint,
        "action": action,
        "recent_steps": list(selectors.recent_steps_for_project(project=project)),
        "examples": EXAMPLES,
        "test": test,
    }


def _render_list(request, project, *, editor: dict | None = None):
    context = {**_list_context(request, project), **(editor or {})}
    return render_htmx(request, LIST, context, partial={"breakpoints": "breakpoint_list"})


def _render_editor(request, project, editor: dict):
    """The dialog (htmx GET), the form with its errors (htmx POST), or the page with the dialog open."""
    if not htmx_wants_part(request):
        return _render_list(request, project, editor=editor)
    return render_htmx(request, LIST, editor, partial="editor_form" if request.method == "POST" else "editor")


def _saved(request, breakpoint, message: str):
    if not htmx_wants_part(request):
        messages.success(request, message)
        return redirect("breakpoints:list")
    context = {**_list_context(request, breakpoint.project), "close_editor": True}
    response = render_htmx(request, LIST, context, partial="breakpoint_list")
    return _toast(request, reswap(retarget(response, "#breakpoints"), "innerHTML"), ("success", message))


@login_required
@require_GET
def breakpoint_list(request):
    return _render_list(request, request.current_project or None)


@login_required
@require_http_methods(["GET", "POST"])
def breakpoint_new(request):
    project = _project_or_404(request, "breakpoint.write")
    form = BreakpointForm(request.POST or None)
    if request.method == "POST" and "refresh" not in request.POST and form.is_valid():
        try:
            actor = actor_from_request(request)
            breakpoint = services.breakpoint_create(project=project, actor=actor, **form.service_data())
        except ApplicationError as exc:
            form.add_service_errors(exc)
        else:
            return _saved(request, breakpoint, f"{_named(breakpoint)} created.")
    return _render_editor(request, project, _editor_context(form=form, project=project))


@login_required
@require_http_methods(["GET", "POST"])
def breakpoint_edit(request, breakpoint_id):
    breakpoint = selectors.breakpoint_get(user=request.user, breakpoint_id=breakpoint_id, action="breakpoint.write")
    form = BreakpointForm(request.POST or None, initial=BreakpointForm.initial_for(breakpoint))
    if request.method == "POST" and "refresh" not in request.POST and form.is_valid():
        try:
            actor = actor_from_request(request)
            breakpoint = services.breakpoint_update(breakpoint=breakpoint, data=form.service_data(), actor=actor)
        except ApplicationError as exc:
            form.add_service_errors(exc)
        else:
            return _saved(request, breakpoint, f"{_named(breakpoint)} saved.")
    editor = _editor_context(form=form, project=breakpoint.project, breakpoint=breakpoint)
    return _render_editor(request, breakpoint.project, editor)


@login_required
@require_POST
def breakpoint_toggle(request, breakpoint_id):
    breakpoint = selectors.breakpoint_get(user=request.user, breakpoint_id=breakpoint_id, action="breakpoint.write")
    wanted = request.POST.get("enabled")
    enabled = None if wanted is None else wanted.lower() in ("1", "true", "on")
    breakpoint = services.breakpoint_toggle(breakpoint=breakpoint, enabled=enabled, actor=actor_from_request(request))
    if breakpoint.enabled:
        message = f"{_named(breakpoint)} is on: matching steps will pause."
    else:
        message = f"{_named(breakpoint)} is off: agents run through it."
    if not htmx_wants_part(request):
        messages.success(request, message)
        return redirect("breakpoints:list")
    return _toast(request, render_htmx(request, LIST, {"breakpoint": breakpoint}, partial="row"), ("success", message))


@login_required
@require_POST
def breakpoint_delete(request, breakpoint_id):
    breakpoint = selectors.breakpoint_get(user=request.user, breakpoint_id=breakpoint_id, action="breakpoint.write")
    message, project = f"{_named(breakpoint)} deleted.", breakpoint.project
    services.breakpoint_delete(breakpoint=breakpoint, actor=actor_from_request(request))
    if not htmx_wants_part(request):
        messages.success(request, message)
        return redirect("breakpoints:list")
    response = render_htmx(request, LIST, _list_context(request, project), partial="breakpoint_list")
    return _toast(request, response, ("success", message))


def _test_step(form: BreakpointForm, steps: list) -> dict:
    """The editor's "test against a recent step": match or not, and a custom expression's value."""
    if not form.is_valid():
        field, errors = next(iter(form.errors.items()))
        return {"error": f"{form.fields[field].label if field in form.fields else 'Form'}: {errors[0]}"}
    step = next((step for step in steps if step.pk == form.cleaned_data["step_id"]), None)
    if step is None:
        return {"error": "Choose one of the project's recent steps to test against."}
    data = form.service_data()
    try:
        result = services.breakpoint_test_against_step(breakpoint_data=data, step=step)
    except ApplicationError as exc:
        return {"error": next(iter(exc.errors.values()), [exc.detail])[0], "step": step}
    test = {"result": result, "step": step, "agent_name": data["agent_name"]}
    if result["condition_type"] == ConditionType.CUSTOM and not result.get("error"):
        test["value_json"] = json.dumps(result.get("value"), ensure_ascii=False, indent=2)
    return test


@login_required
@require_POST
def breakpoint_test(request):
    editing = None
    if request.POST.get("breakpoint_id"):
        editing = selectors.breakpoint_get(user=request.user, breakpoint_id=_uuid_or_404(request.POST["breakpoint_id"]))
    project = editing.project if editing else _project_or_404(request)
    form = BreakpointForm(request.POST)
    editor = _editor_context(form=form, project=project, breakpoint=editing)
    editor["test"] = _test_step(form, editor["recent_steps"])
    if htmx_wants_part(request):
        return render_htmx(request, LIST, editor, partial="test_result")
    return _render_list(request, project, editor=editor)


def _uuid_or_404(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise Http404("No such breakpoint.") from None


# ---------------------------------------------------------------- a paused run's controls


def _on_controls_page(request, run) -> bool:
    """Whether htmx asks from the controls' own page (which refreshes its header too), not the run page."""
    page = urlsplit(request.htmx.current_url_abs_path or "").path.rstrip("/")
    return page == reverse("breakpoints:run_controls", args=[run.pk])


def _render_controls(request, run, *, typed: dict | None = None, errors: dict | None = None, toast=None):
    """The waiting hit's banner and buttons; for htmx nothing at all when nothing waits."""
    hit = selectors.waiting_hit_for_run(run)
    context = {"run": run, "hit": hit, "typed": typed or {}, "errors": errors or {}}
    if hit is not None:
        context["waited_ms"] = max(0, (timezone.now() - hit.created_at).total_seconds() * 1000)
        context["input_json"] = json.dumps(hit.step_input, ensure_ascii=False, indent=2)
        context["editable"] = hit.phase == HitPhase.BEFORE
        actions = decisions_for(run, hit.step)
        context.update(actions=actions, limited=actions != ALL_DECISIONS)
        context.update(
            can_edit=context["editable"] and "edit" in actions, can_skip=context["editable"] and "skip" in actions
        )
    if not htmx_wants_part(request):
        response = render_htmx(request, "breakpoints/run_controls.html", context)
    elif _on_controls_page(request, run):
        # 286 tells htmx to stop polling: an ended run never waits again.
        status = 286 if run.is_finished else 200
        response = render_htmx(request, "breakpoints/run_controls.html", context, partial="live", status=status)
    else:
        response = render_htmx(request, CONTROLS, context) if hit else HttpResponse("")
    return _toast(request, response, toast)


@never_cache
@login_required
@require_GET
def run_controls(request, run_id):
    run = run_get_for_user(user=request.user, run_id=run_id)
    return _render_controls(request, run)


# The buttons of the controls: (the service's action, the box holding its JSON, what the box is called).
DECISIONS = {
    "continue": ("continue", None, None),
    "edit": ("continue", "input", "The step input"),
    "skip": ("skip", "output", "The output"),
    "abort": ("abort", None, None),
}
DONE = {
    "continue": ("success", "Continued: the agent runs the step as it was."),
    "edit": ("success", "Continued with your edited input."),
    "skip": ("success", "Step skipped: the agent gets your output instead."),
    "abort": ("warning", "Run aborted: the agent raises Aborted and the run ends failed."),
}


def _conflict_message(run, hit_id, exc: ApplicationError) -> str:
    """Why a decision came too late, in words: who resolved the breakpoint, or that the run ended."""
    try:
        hit = selectors.hit_for_run(run=run, hit_id=hit_id) if hit_id else None
    except Http404:
        hit = None
    if hit is None or hit.is_waiting:
        return exc.detail
    if hit.timed_out:
        return "Too late: the agent stopped waiting (its maximum wait) and went on."
    who = hit.resolved_by.email if hit.resolved_by_id else "someone else"
    return f"Too late: {who} already chose {hit.action} for this breakpoint."


def _parse_decision(post) -> tuple[str, dict]:
    """The service's action and its JSON argument from the pressed button; JsonBoxError when unreadable."""
    action, box, what = DECISIONS[post.get("decision")]
    return action, ({box: parse_json_box(post.get(box), what=what)} if box else {})


@login_required
@require_POST
def run_resume(request, run_id):
    run = run_get_for_user(user=request.user, run_id=run_id, action="run.resume")
    decision = request.POST.get("decision")
    hit_id = _uuid_or_404(request.POST["hit_id"]) if request.POST.get("hit_id") else None
    typed = {name: request.POST[name] for name in ("input", "output") if name in request.POST}
    if decision not in DECISIONS:
        return _render_controls(request, run, typed=typed, errors={"action": "Choose one of the buttons."})
    try:
        action, argument = _parse_decision(request.POST)
    except JsonBoxError as exc:
        return _render_controls(request, run, typed=typed, errors={DECISIONS[decision][1]: str(exc)})
    try:
        actor = actor_from_request(request)
        services.run_resume(run=run, user=request.user, action=action, hit_id=hit_id, actor=actor, **argument)
    except ApplicationError as exc:
        if exc.status == 409:
            return _after_resume(request, run, ("error", _conflict_message(run, hit_id, exc)))
        field, problems = next(iter(exc.errors.items()), ("action", [exc.detail]))
        field = field if field in ("input", "output") else "action"
        return _render_controls(request, run, typed=typed, errors={field: problems[0]})
    run.refresh_from_db()
    return _after_resume(request, run, DONE[decision])


def _after_resume(request, run, toast: tuple[str, str]):
    if htmx_wants_part(request):
        return _render_controls(request, run, toast=toast)
    getattr(messages, toast[0])(request, toast[1])
    return redirect("breakpoints:run_controls", run_id=run.pk)
