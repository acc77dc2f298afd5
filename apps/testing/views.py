"""The Tests pages: the list with its editor, a test's page (Run now, history, per-check results), and
the verdicts on one run that the run's page loads. They call the same services and selectors as /api/tests."""

import json
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, reswap, retarget, trigger_client_event

from apps.core.errors import ApplicationError
from apps.core.htmx import htmx_target, render_htmx
from apps.orgs.audit import actor_from_request
from apps.projects.selectors import project_authorize
from apps.testing import selectors, services
from apps.testing.evaluators.assertion import SYMBOLS
from apps.testing.evaluators.base import short
from apps.testing.forms import OPTIONS, TestEditorForm, blank_row, check_kind, run_label
from apps.testing.models import BACKFILL_SIZES, BackfillStatus, TestRunStatus, TestType

HISTORY_PAGE_SIZE = 15
DETAIL_PARTIALS = {"history": "history", "test-body": "body"}  # by the element htmx targets
TREND_DAYS = 30
EXAMPLE = {  # the empty list's example of a config
    "target": {"agent_name": "support-bot"},
    "assertions": [
        {"path": "output.answer", "op": "equals", "value": "42"},
        {"metric": "latency_ms", "op": "lt", "value": 5000},
        {"op": "step_called", "step_type": "tool_call", "name": "search", "min": 1},
        {"op": "no_errors"},
    ],
}
VERDICT_TOASTS = {
    TestRunStatus.PASSED: "success",
    TestRunStatus.FAILED: "error",
    TestRunStatus.ERROR: "error",
    TestRunStatus.SKIPPED: "warning",
}


@login_required
@require_GET
def test_list(request):
    project = request.current_project or None
    tests = list(selectors.tests_for_user(user=request.user, project_id=project.pk)) if project else []
    context = {"tests": tests, "example": json.dumps(EXAMPLE, indent=2)}
    if project:
        trend = selectors.project_test_trend(project=project, days=TREND_DAYS) if tests else []
        failing = sum(test.last_status in (TestRunStatus.FAILED, TestRunStatus.ERROR) for test in tests)
        context |= {
            "chart": trend_chart(trend),
            "summary": {"enabled": sum(test.enabled for test in tests), "failing": failing},
            **_editor_context(request, _new_editor(project)),
        }
    return render(request, "testing/list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def test_new(request):
    project = request.current_project or None
    if project is None:
        return redirect("testing:list")
    project_authorize(user=request.user, project=project, action="test.write")
    editor = _new_editor(project, request.POST if request.method == "POST" else None)
    if request.method == "POST" and editor.handle(request.POST.get("editor_action")) and editor.is_valid():
        try:
            test = services.test_create(project=project, actor=actor_from_request(request), **editor.test_fields())
        except ApplicationError as exc:
            editor.add_service_errors(exc)
        else:
            agent = test.target.get("agent_name")
            messages.success(request, f"Test “{test.name}” created: it judges every run of {agent} that ends.")
            return _redirect(request, reverse("testing:detail", args=[test.pk]))
    return _render_editor(request, editor)


@login_required
@require_http_methods(["GET", "POST"])
def test_edit(request, test_id):
    test = selectors.test_get(user=request.user, test_id=test_id, action="test.write")
    editor = _edit_editor(test, request.POST if request.method == "POST" else None)
    if request.method == "POST" and editor.handle(request.POST.get("editor_action")) and editor.is_valid():
        try:
            services.test_update(test=test, data=editor.test_fields(), actor=actor_from_request(request))
        except ApplicationError as exc:
            editor.add_service_errors(exc)
        else:
            messages.success(request, f"Test “{test.name}” saved.")
            return _redirect(request, reverse("testing:detail", args=[test.pk]))
    return _render_editor(request, editor)


@login_required
@require_POST
def test_delete(request, test_id):
    test = selectors.test_get(user=request.user, test_id=test_id, action="test.write")
    name, count = test.name, test.run_count
    services.test_delete(test=test, actor=actor_from_request(request))
    messages.success(request, f"Test “{name}” deleted, with its {count} result{'s' if count != 1 else ''}.")
    return redirect("testing:list")


@login_required
@require_POST
def test_toggle(request, test_id):
    test = selectors.test_get(user=request.user, test_id=test_id, action="test.write")
    wanted = {"1": True, "0": False}.get(request.POST.get("enabled", ""))
    test = services.test_toggle(test=test, enabled=wanted, actor=actor_from_request(request))
    agent = test.target.get("agent_name")
    message = (
        f"“{test.name}” enabled: it judges every run of {agent} that ends."
        if test.enabled
        else f"“{test.name}” disabled: new runs of {agent} aren't judged by it."
    )
    if request.htmx:
        context = {"test": test, "next": _safe_next(request, reverse("testing:detail", args=[test.pk]))}
        response = render(request, "testing/_toggle.html", context)
        return trigger_client_event(response, "toast", {"level": "success", "message": message})
    messages.success(request, message)
    return redirect(_safe_next(request, reverse("testing:detail", args=[test.pk])))


@login_required
@require_GET
def test_detail(request, test_id):
    test = selectors.test_get(user=request.user, test_id=test_id)
    return _render_detail(request, test, selected=_selected_result(request, test))


@login_required
@require_POST
def test_run_now(request, test_id):
    test = selectors.test_get(user=request.user, test_id=test_id, action="test.write")
    try:
        test_run = services.test_execute(test=test, run_id=_run_id(request.POST.get("run_id")))
    except ApplicationError as exc:
        return _run_now_refused(request, test, exc)
    message = verdict_message(test_run)
    url = f"{reverse('testing:detail', args=[test.pk])}?result={test_run.pk}"
    if not request.htmx:
        getattr(messages, VERDICT_TOASTS[test_run.status])(request, message)
        return redirect(url)
    test = selectors.test_get(user=request.user, test_id=test_id)  # with the new counts
    response = _render_detail(request, test, selected=test_run, partial="body")
    response["HX-Push-Url"] = url
    return trigger_client_event(response, "toast", {"level": VERDICT_TOASTS[test_run.status], "message": message})


@login_required
@require_POST
def test_backfill(request, test_id):
    """ "Judge the last N runs": the backfill starts, and its progress (polled) replaces the form."""
    test = selectors.test_get(user=request.user, test_id=test_id, action="test.write")
    try:
        count = int(request.POST.get("count", ""))
    except ValueError:
        count = 0
    try:
        backfill = services.test_backfill_start(test=test, count=count)
    except ApplicationError as exc:
        if not request.htmx:
            messages.error(request, exc.detail)
            return redirect("testing:detail", test.pk)
        return render(request, "testing/detail.html#backfill", {"test": test, "backfill_error": exc.detail})
    if not request.htmx:
        return redirect(f"{reverse('testing:detail', args=[test.pk])}?backfill={backfill.pk}")
    backfill.refresh_from_db()  # where tasks run inline (DEBUG), it is done already
    return _backfill_progress(request, test, backfill)


@login_required
@require_GET
def test_backfill_progress(request, test_id, backfill_id):
    """A backfill's progress, polled while it runs."""
    test = selectors.test_get(user=request.user, test_id=test_id)
    return _backfill_progress(request, test, selectors.backfill_get(test=test, backfill_id=backfill_id))


def _backfill_progress(request, test, backfill):
    """The progress bar; once the backfill is done, a toast says how it went and the page's results
    are drawn again (the `backfill-done` event)."""
    response = render(request, "testing/detail.html#backfill", {"test": test, "backfill": backfill})
    if backfill.status == BackfillStatus.DONE:
        message = f"Judged {backfill.done} run{'s' if backfill.done != 1 else ''}: {backfill.passed} passed, {backfill.failed} failed."
        trigger_client_event(response, "backfill-done")
        trigger_client_event(
            response, "toast", {"level": "error" if backfill.failed else "success", "message": message}
        )
    return response


# ---------------------------------------------------------------- helpers


def _new_editor(project, data=None) -> TestEditorForm:
    return TestEditorForm(data, runs=selectors.runs_recent_for_project(project=project))


def _edit_editor(test, data=None) -> TestEditorForm:
    return TestEditorForm(data, test=test, runs=selectors.runs_recent_for_project(project=test.project))


def _editor_context(request, editor: TestEditorForm) -> dict:
    test = editor.test
    project = test.project if test else request.current_project
    action = reverse("testing:edit", args=[test.pk]) if test else reverse("testing:new")
    return {
        "editor": editor,
        "editor_action": action,
        "blank_row": blank_row(),
        "agent_names": selectors.agent_names_for_project(project=project),
        "editor_errors": editor.error_summary(),
        **OPTIONS,
    }


def _render_editor(request, editor: TestEditorForm):
    """The editor alone for htmx (it stays open in its dialog), else a page of its own."""
    context = _editor_context(request, editor)
    template = "testing/_editor.html" if request.htmx else "testing/editor.html"
    return render_htmx(request, template, context | {"test": editor.test})


def _redirect(request, url: str):
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def _safe_next(request, default: str) -> str:
    url = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}, require_https=request.is_secure())
    return url if url and safe else default


def _run_id(raw: str | None):
    if not raw or raw == "latest":
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise ApplicationError(
            "Choose a run from the list, or the latest one.", errors={"run_id": ["not a run id"]}
        ) from None


def _selected_result(request, test):
    raw = request.GET.get("result")
    if not raw:
        return None
    try:
        return get_object_or_404(test.test_runs, pk=uuid.UUID(raw))
    except ValueError:
        raise Http404("No such result") from None


def _render_detail(request, test, *, selected=None, partial=None, run_now_error=None, status=200):
    history = Paginator(selectors.test_runs_for_test(test=test), HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    if selected is None and history.number == 1 and history.object_list:
        selected = history.object_list[0]
    context = {
        "test": test,
        "history": history,
        "selected": selected,
        "checks": shown_checks(selected),
        "config_lines": config_lines(test),
        "recent_runs": [{"pk": run.pk, "label": run_label(run)} for run in selectors.runs_recent_for_test(test=test)],
        "failing_count": (test.judged_count or 0) - (test.passed_count or 0),
        "chart": trend_chart(selectors.test_trend(test=test, days=TREND_DAYS)),
        "run_now_error": run_now_error,
        "backfill": _shown_backfill(request, test),
        "backfill_sizes": BACKFILL_SIZES,
        "next": request.get_full_path(),
    }
    partial = partial or DETAIL_PARTIALS.get(htmx_target(request) or "")
    if partial is None:
        context |= _editor_context(request, _edit_editor(test))
    return render_htmx(request, "testing/detail.html", context, partial=partial, status=status)


def _run_now_refused(request, test, exc: ApplicationError):
    """Run now could not judge (no matching run: 409; a bad run: 400): a message by the button, not an error page."""
    message = exc.detail
    if exc.status == 409:  # the API's words speak of run_id; a person chooses from the list
        agent = test.target.get("agent_name")
        message = (
            f"Nothing to judge yet: no finished run of {agent} matches this test. "
            f"Record a run of {agent} (with the SDK or the ingest API), or choose a run from the list."
        )
    if not request.htmx:
        return _render_detail(request, test, run_now_error=message, status=exc.status)
    response = render(request, "testing/detail.html#run_now_message", {"run_now_error": message}, status=exc.status)
    return reswap(retarget(response, "#run-now-message"), "innerHTML")


def verdict_message(test_run) -> str:
    result = test_run.result or {}
    if test_run.status in (TestRunStatus.PASSED, TestRunStatus.FAILED):
        word = "Passed" if test_run.status == TestRunStatus.PASSED else "Failed"
        return f"{word}: {result.get('passed', 0)} of {result.get('total', 0)} check(s) passed."
    return f"{test_run.get_status_display()}: {result.get('summary') or (test_run.error or {}).get('message', '')}"


def shown_checks(test_run) -> list[dict]:
    """A result's checks with their actual and expected values ready to show: scalars inline, JSON as a tree."""
    if test_run is None or not isinstance(test_run.result, dict):
        return []
    checks = []
    for check in test_run.result.get("checks") or []:
        shown = dict(check)
        for key in ("actual", "expected"):
            value = check.get(key)
            shown[f"{key}_tree"] = isinstance(value, dict | list)
            shown[f"{key}_text"] = json.dumps(value, ensure_ascii=False)
        checks.append(shown)
    return checks


def config_lines(test) -> list[str]:
    """The test's checks in words, for the config card."""
    config = test.config if isinstance(test.config, dict) else {}
    if test.test_type == TestType.ASSERTION:
        return [describe_check(check) for check in config.get("assertions", []) if isinstance(check, dict)]
    if test.test_type == TestType.COMPARISON:
        against = (
            "baseline run " + str(config["baseline_run_id"])[:8]
            if "baseline_run_id" in config
            else "the expected value"
        )
        what = "the step sequence" if config.get("method") == "step_sequence" else config.get("path", "output")
        return [f"{what} · {config.get('method', '').replace('_', ' ')} · against {against}"]
    return [config.get("expression", "")]


def describe_check(check: dict) -> str:
    """A check in words, for the test's page."""
    kind = check_kind(check)
    if kind == "metric":
        return f"{check.get('metric')} {SYMBOLS.get(check.get('op'), check.get('op'))} {check.get('value')}"
    if kind == "no_errors":
        return "no error steps and no run error"
    if kind == "step_called":
        return _describe_step_called(check)
    if check.get("op") == "matches_schema":
        return f"{check.get('path')} matches a JSON Schema"
    return f"{check.get('path')} {str(check.get('op')).replace('_', ' ')} {short(check.get('value'))}"


def _describe_step_called(check: dict) -> str:
    which = " ".join(filter(None, [check.get("step_type"), check.get("name") and f"“{check['name']}”"])) or "steps"
    low, high = check.get("min", 0 if "max" in check else 1), check.get("max")
    bounds = f"at least {low}" if high is None else f"between {low} and {high}" if low else f"at most {high}"
    text = f"{which} called {bounds} time{'s' if (high if high is not None else low) != 1 else ''}"
    if check.get("order"):
        text += " in order " + " → ".join(str(item) for item in check["order"])
    return text


def trend_chart(trend: list[dict]) -> dict | None:
    """The pass-rate chart as SVG geometry over one axis, 0-100%: per day a bar of its results as
    shares (passed, then failed, then error, up to 100%), and the pass rate as a line through the top
    of each day's passed share. The counts are in each day's title. None when nothing was judged."""
    if not any(day["passed"] + day["failed"] + day["error"] for day in trend):
        return None
    left, step, top, height = 34, 20, 8, 112
    bottom, days, points = top + height, [], []
    for index, day in enumerate(trend):
        x = left + index * step + step / 2
        bars, y, judged = [], bottom, day["passed"] + day["failed"] + day["error"]
        for status in ("passed", "failed", "error"):
            size = day[status] / judged * height if judged else 0  # a share, on the same % axis as the line
            y -= size
            bars.append({"status": status, "y": round(y, 2), "height": round(size, 2)})
        rate_y = None if day["pass_rate"] is None else round(top + (1 - day["pass_rate"]) * height, 2)
        if rate_y is not None:
            points.append((x, rate_y))
        label = index % 5 == (len(trend) - 1) % 5  # every fifth day, ending on today
        days.append(
            day | {"x": x, "hit_x": x - step / 2, "bar_x": x - 5, "bars": bars, "rate_y": rate_y, "label": label}
        )
    line = " ".join(f"{x:g},{y:g}" for x, y in points)
    grid = [
        {"y": top + height * (1 - share), "text_y": top + height * (1 - share) + 3, "label": f"{share:.0%}"}
        for share in (1, 0.5, 0)
    ]
    return {
        "days": days,
        "line": line,
        "area": f"{points[0][0]:g},{bottom} {line} {points[-1][0]:g},{bottom}",
        "grid": grid,
        "width": left + len(trend) * step + 6,
        "left": left,
        "right": left + len(trend) * step,
        "axis_x": left - 6,
        "step": step,
        "bottom": bottom,
    }


def _shown_backfill(request, test):
    """The backfill the address names (?backfill=, where a page without htmx was sent), if any."""
    try:
        return selectors.backfill_get(test=test, backfill_id=uuid.UUID(request.GET.get("backfill", "")))
    except (ValueError, Http404):
        return None
