"""The /breakpoints page (list, editor, toggle, delete, test against a step) and a paused run's controls."""

import html
import json
import re
import uuid

import pytest
from django.urls import resolve

from apps.breakpoints import api
from apps.breakpoints.forms import EXAMPLES
from apps.breakpoints.models import Breakpoint, BreakpointHit, HitStatus
from apps.breakpoints.services import breakpoint_check_step, run_resume
from apps.projects.services import project_create
from apps.runs.models import Run, RunStatus, RunStep, StepStatus

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def htmx(target: str) -> dict:
    return {**HTMX, "HX-Target": target}


def text(response) -> str:
    """The page as a person reads it: tags gone, whitespace squeezed."""
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())).strip())


def toast(response) -> dict:
    return json.loads(response["HX-Trigger"])["toast"]


@pytest.fixture
def breakpoint(make_breakpoint):
    return make_breakpoint(name="Before search", condition_value={"pattern": "search*", "match": "glob"})


@pytest.fixture
def paused(run, make_step, make_breakpoint):
    """Alice's run waiting before its `search` tool call: (run, step, hit)."""
    make_breakpoint(name="Before search")
    step = make_step(run, input={"query": "weather in Paris"})
    answer = breakpoint_check_step(run=run, step=step)
    return run, step, BreakpointHit.objects.get(pk=answer["hit_id"])


def resume(client, run, hit, decision: str, headers=HTMX, follow=False, **data):
    body = {"decision": decision, "hit_id": str(hit.pk), **data}
    return client.post(f"/runs/{run.pk}/breakpoint/resume", body, headers=headers, follow=follow)


# ---------------------------------------------------------------- login and ownership


def urls_of(breakpoint_id, run_id) -> list[tuple[str, str]]:
    return [
        ("get", "/breakpoints"),
        ("get", "/breakpoints/new"),
        ("post", "/breakpoints/new"),
        ("post", "/breakpoints/test"),
        ("get", f"/breakpoints/{breakpoint_id}/edit"),
        ("post", f"/breakpoints/{breakpoint_id}/edit"),
        ("post", f"/breakpoints/{breakpoint_id}/toggle"),
        ("post", f"/breakpoints/{breakpoint_id}/delete"),
        ("get", f"/runs/{run_id}/breakpoint"),
        ("post", f"/runs/{run_id}/breakpoint/resume"),
    ]


def test_every_url_requires_login(client, breakpoint, paused):
    run = paused[0]
    for method, url in urls_of(breakpoint.pk, run.pk):
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(f"/login?next={url}")
    assert Breakpoint.objects.get(pk=breakpoint.pk).enabled
    assert BreakpointHit.objects.get().status == HitStatus.WAITING


def test_it_checks_ownership(client, bob, breakpoint, paused):
    run, step, hit = paused
    client.force_login(bob)
    answers = {
        "edit": client.get(f"/breakpoints/{breakpoint.pk}/edit"),
        "save": client.post(f"/breakpoints/{breakpoint.pk}/edit", {"condition_type": "on_error", "name": "mine"}),
        "toggle": client.post(f"/breakpoints/{breakpoint.pk}/toggle", headers=HTMX),
        "delete": client.post(f"/breakpoints/{breakpoint.pk}/delete", headers=HTMX),
        "test": client.post(
            "/breakpoints/test",
            {"breakpoint_id": breakpoint.pk, "condition_type": "on_error", "step_id": step.pk},
            headers=HTMX,
        ),
        "controls": client.get(f"/runs/{run.pk}/breakpoint", headers=HTMX),
        "controls page": client.get(f"/runs/{run.pk}/breakpoint"),
        "resume": resume(client, run, hit, "abort"),
    }
    assert {name: response.status_code for name, response in answers.items()} == dict.fromkeys(answers, 404)
    breakpoint.refresh_from_db()
    assert (breakpoint.name, breakpoint.enabled) == ("Before search", True)
    hit.refresh_from_db()
    run.refresh_from_db()
    assert (hit.status, run.status) == (HitStatus.WAITING, RunStatus.PAUSED)


def test_the_list_never_shows_another_tenants_or_projects_breakpoints(
    client_alice, alice, breakpoint, make_breakpoint, bob_project
):
    make_breakpoint(project=bob_project, name="Bob's secret")
    make_breakpoint(project=project_create(user=alice, name="Staging"), name="Staging only")
    body = client_alice.get("/breakpoints").content.decode()
    assert "Before search" in body
    assert "Bob&#x27;s secret" not in body and "Staging only" not in body


def test_creating_goes_to_the_current_project(client, bob, bob_project):
    client.force_login(bob)
    client.post("/breakpoints/new", {"condition_type": "on_error", "name": "Bob's"}, headers=HTMX)
    assert Breakpoint.objects.get().project == bob_project


def test_testing_against_another_tenants_step_shows_nothing_of_it(client, bob, bob_project, paused):
    step = paused[1]
    client.force_login(bob)
    response = client.post("/breakpoints/test", {"condition_type": "on_error", "step_id": step.pk}, headers=HTMX)
    assert response.status_code == 200
    assert "Choose one of the project&#x27;s recent steps" in response.content.decode()
    assert "search" not in text(response) and "weather" not in text(response)


# ---------------------------------------------------------------- the list


def test_the_list_shows_each_condition_readably(client_alice, project, make_breakpoint, django_assert_max_num_queries):
    make_breakpoint(name="Tool calls", condition_type="step_type", condition_value={"step_type": "tool_call"})
    make_breakpoint(name="Searches", condition_value={"pattern": "search*", "match": "glob"})
    make_breakpoint(name="Exactly fetch", condition_value={"pattern": "fetch", "match": "exact"}, enabled=False)
    make_breakpoint(
        name="Big runs", condition_type="custom", condition_value={"expression": "run.total_tokens > `100`"}
    )
    make_breakpoint(condition_type="on_error", condition_value={}, agent_name="researcher")
    with django_assert_max_num_queries(8):
        response = client_alice.get("/breakpoints")
    assert response.status_code == 200
    page = text(response)
    assert "Tool calls Step type type is tool_call All agents On" in page
    assert "Searches Step name name matches search* (glob)" in page
    assert "Exactly fetch Step name name is fetch (exact) All agents Off" in page
    assert "Big runs Custom run.total_tokens > `100`" in page
    assert "Untitled On error any step ends in an error researcher On" in page
    body = response.content.decode()
    assert '<code class="bp-code bp-expr" title="run.total_tokens &gt; `100`">' in body
    assert body.count('role="switch"') == 5 and body.count('aria-checked="false"') == 1
    assert "css/breakpoints.css" in body and "js/breakpoints.js" in body


def test_the_empty_list_explains_breakpoints(client_alice, project):
    response = client_alice.get("/breakpoints/")
    page = text(response)
    assert "No breakpoints yet" in page
    assert "really stops a live agent before a matching step runs" in page
    assert "edit its input, skip it by handing back an output, or abort the run" in page
    assert "AGENTSCOPE_BREAKPOINTS=off" in page
    assert 'href="/breakpoints/new" hx-get="/breakpoints/new" hx-target="#bp-editor-slot"' in response.content.decode()


def test_without_a_project_it_offers_to_create_one(client_alice):
    page = text(client_alice.get("/breakpoints"))
    assert "No project yet" in page and "Create project" in page
    assert client_alice.get("/breakpoints/new").status_code == 404


def test_htmx_renders_only_the_list(client_alice, breakpoint):
    response = client_alice.get("/breakpoints", headers=htmx("breakpoints"))
    body = response.content.decode()
    assert f'id="bp-{breakpoint.pk}"' in body
    assert "<html" not in body and "sidebar" not in body
    assert response["Vary"].startswith("HX-Request")


# ---------------------------------------------------------------- the editor


def test_new_without_js_is_the_page_with_the_editor_open(client_alice, breakpoint):
    body = client_alice.get("/breakpoints/new").content.decode()
    assert "sidebar" in body and f'id="bp-{breakpoint.pk}"' in body
    assert (
        '<dialog class="modal bp-editor" id="bp-editor" aria-labelledby="bp-editor-title" open data-autoshow>' in body
    )
    assert 'action="/breakpoints/new"' in body and "Create breakpoint" in body


def test_new_with_htmx_is_only_the_dialog(client_alice, project, run, make_step):
    make_step(run, name="search_web")
    body = client_alice.get("/breakpoints/new", headers=htmx("bp-editor-slot")).content.decode()
    assert body.lstrip().startswith('<dialog class="modal bp-editor"')
    assert "sidebar" not in body
    # The step type's inputs show, the others wait hidden for the type dropdown.
    assert '<fieldset class="bp-group" data-condition-group="step_type">' in body
    for kind in ("step_name", "custom", "on_error"):
        assert f'data-condition-group="{kind}" hidden>' in body
    assert "#0 tool_call · search_web — researcher" in body
    assert "run.total_tokens &gt; `10000`" in body  # the example expressions


@pytest.mark.parametrize(
    "data,condition_type,condition_value",
    [
        ({"condition_type": "step_type", "step_type": "llm_call"}, "step_type", {"step_type": "llm_call"}),
        (
            {"condition_type": "step_name", "pattern": "search_*", "match": "glob"},
            "step_name",
            {"pattern": "search_*", "match": "glob"},
        ),
        ({"condition_type": "step_name", "pattern": "search"}, "step_name", {"pattern": "search", "match": "exact"}),
        (
            {"condition_type": "custom", "expression": "contains(step.input.query, 'password')"},
            "custom",
            {"expression": "contains(step.input.query, 'password')"},
        ),
        ({"condition_type": "on_error", "pattern": "ignored"}, "on_error", {}),
    ],
)
def test_it_creates_each_condition_type(client_alice, project, data, condition_type, condition_value):
    form = {"name": " Mine ", "agent_name": "researcher", "enabled": "on", "step_type": "tool_call", **data}
    response = client_alice.post("/breakpoints/new", form, headers=htmx("bp-editor-form"))
    assert response.status_code == 200
    breakpoint = Breakpoint.objects.get()
    assert (breakpoint.project, breakpoint.name, breakpoint.agent_name) == (project, "Mine", "researcher")
    assert (breakpoint.condition_type, breakpoint.condition_value, breakpoint.enabled) == (
        condition_type,
        condition_value,
        True,
    )
    # The list replaces itself and the dialog goes away.
    assert response["HX-Retarget"] == "#breakpoints" and response["HX-Reswap"] == "innerHTML"
    body = response.content.decode()
    assert f'id="bp-{breakpoint.pk}"' in body
    assert '<div id="bp-editor-slot" hx-swap-oob="true"></div>' in body
    assert toast(response) == {"level": "success", "message": "Breakpoint “Mine” created."}


def test_creating_without_js_redirects_with_a_message(client_alice, project):
    response = client_alice.post("/breakpoints/new", {"condition_type": "on_error"}, follow=True)
    assert response.redirect_chain == [("/breakpoints", 302)]
    breakpoint = Breakpoint.objects.get()
    assert breakpoint.enabled is False  # an unticked box is off
    assert "Untitled breakpoint created." in text(response)


@pytest.mark.parametrize(
    "data,field,message",
    [
        (
            {"condition_type": "step_name", "pattern": "  "},
            "pattern",
            "pattern is required and must be a non-empty string.",
        ),
        (
            {"condition_type": "custom", "expression": "step.input.query =="},
            "expression",
            "expression is not valid JMESPath",
        ),
        ({"condition_type": "custom", "expression": "nope(step)"}, "expression", "unknown function nope()."),
        ({"condition_type": "step_type", "step_type": "teleport"}, "step_type", "Select a valid choice."),
        ({"condition_type": "breakdance"}, "condition_type", "Select a valid choice."),
        ({"condition_type": "on_error", "name": "x" * 256}, "name", "Ensure this value has at most 255 characters"),
    ],
)
def test_validation_errors_show_next_to_the_field(client_alice, project, data, field, message):
    response = client_alice.post("/breakpoints/new", data, headers=htmx("bp-editor-form"))
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<form id="bp-editor-form"')
    errors = re.search(rf'<ul class="field-errors" id="id_{field}_error">(.*?)</ul>', body, re.S)
    assert errors and message in errors.group(1)
    assert not Breakpoint.objects.exists()


def test_validation_errors_without_js_render_the_page_with_the_editor(client_alice, project):
    response = client_alice.post("/breakpoints/new", {"condition_type": "step_name", "pattern": ""})
    body = response.content.decode()
    assert "sidebar" in body and "open data-autoshow" in body
    assert "pattern is required" in body
    assert '<fieldset class="bp-group" data-condition-group="step_name">' in body


def test_switching_the_type_without_js_renders_its_inputs(client_alice, project):
    data = {"condition_type": "custom", "step_type": "tool_call", "refresh": "1"}
    body = client_alice.post("/breakpoints/new", data).content.decode()
    assert '<fieldset class="bp-group" data-condition-group="custom">' in body
    assert 'data-condition-group="step_type" hidden>' in body
    assert "field-errors" not in body
    assert not Breakpoint.objects.exists()
    assert '<noscript><button type="submit" name="refresh" value="1"' in body


def test_edit_fills_the_editor_with_the_breakpoint(client_alice, breakpoint):
    body = client_alice.get(f"/breakpoints/{breakpoint.pk}/edit", headers=htmx("bp-editor-slot")).content.decode()
    assert "Edit breakpoint" in body and "Save changes" in body
    assert f'action="/breakpoints/{breakpoint.pk}/edit"' in body
    assert 'value="Before search"' in body and 'value="search*"' in body
    assert '<input type="radio" name="match" value="glob" id="id_match_1" checked>' in body
    assert '<option value="step_name" selected>' in body
    assert f'<input type="hidden" name="breakpoint_id" value="{breakpoint.pk}">' in body


def test_edit_saves_a_new_type_and_scope(client_alice, breakpoint):
    data = {"name": "Tokens", "condition_type": "custom", "expression": "run.total_tokens > `5`", "agent_name": ""}
    response = client_alice.post(f"/breakpoints/{breakpoint.pk}/edit", data, headers=htmx("bp-editor-form"))
    breakpoint.refresh_from_db()
    assert (breakpoint.name, breakpoint.condition_type) == ("Tokens", "custom")
    assert breakpoint.condition_value == {"expression": "run.total_tokens > `5`"}
    assert (breakpoint.agent_name, breakpoint.enabled) == (None, False)
    assert toast(response)["message"] == "Breakpoint “Tokens” saved."
    assert Breakpoint.objects.count() == 1


def test_a_refused_edit_changes_nothing(client_alice, breakpoint):
    data = {"name": "Broken", "condition_type": "custom", "expression": "[", "enabled": "on"}
    response = client_alice.post(f"/breakpoints/{breakpoint.pk}/edit", data, headers=htmx("bp-editor-form"))
    assert "expression is not valid JMESPath" in response.content.decode()
    breakpoint.refresh_from_db()
    assert (breakpoint.name, breakpoint.condition_type) == ("Before search", "step_name")


# ---------------------------------------------------------------- toggle and delete


def test_the_toggle_answers_with_the_row_and_a_toast(client_alice, breakpoint):
    response = client_alice.post(f"/breakpoints/{breakpoint.pk}/toggle", {"enabled": "0"}, headers=HTMX)
    body = response.content.decode()
    assert body.lstrip().startswith(f'<tr id="bp-{breakpoint.pk}" class="bp-row dim">')
    assert 'aria-checked="false"' in body and '<input type="hidden" name="enabled" value="1">' in body
    assert toast(response) == {
        "level": "success",
        "message": "Breakpoint “Before search” is off: agents run through it.",
    }
    breakpoint.refresh_from_db()
    assert breakpoint.enabled is False
    # Pressing twice (two tabs, a double click) asks for the same state, so it stays off.
    client_alice.post(f"/breakpoints/{breakpoint.pk}/toggle", {"enabled": "0"}, headers=HTMX)
    breakpoint.refresh_from_db()
    assert breakpoint.enabled is False
    client_alice.post(f"/breakpoints/{breakpoint.pk}/toggle", {"enabled": "1"}, headers=HTMX)
    breakpoint.refresh_from_db()
    assert breakpoint.enabled is True


def test_the_toggle_without_js_redirects(client_alice, breakpoint):
    response = client_alice.post(f"/breakpoints/{breakpoint.pk}/toggle", follow=True)
    assert response.redirect_chain == [("/breakpoints", 302)]
    assert "is off: agents run through it" in text(response)
    assert Breakpoint.objects.get().enabled is False


def test_delete_answers_with_the_list(client_alice, breakpoint, make_breakpoint):
    other = make_breakpoint(name="Keep me", condition_type="on_error", condition_value={})
    response = client_alice.post(f"/breakpoints/{breakpoint.pk}/delete", headers=htmx("breakpoints"))
    assert list(Breakpoint.objects.all()) == [other]
    body = response.content.decode()
    assert f'id="bp-{other.pk}"' in body and f'id="bp-{breakpoint.pk}"' not in body
    assert toast(response)["message"] == "Breakpoint “Before search” deleted."


def test_deleting_the_last_shows_the_empty_state(client_alice, breakpoint):
    response = client_alice.post(f"/breakpoints/{breakpoint.pk}/delete", follow=True)
    assert response.redirect_chain == [("/breakpoints", 302)]
    assert "No breakpoints yet" in text(response) and "deleted" in text(response)


def test_deleting_a_breakpoint_keeps_a_run_waiting_at_it(client_alice, paused):
    run, _step, hit = paused
    client_alice.post(f"/breakpoints/{hit.breakpoint_id}/delete", headers=HTMX)
    page = text(client_alice.get(f"/runs/{run.pk}/breakpoint", headers=HTMX))
    assert "Paused at breakpoint “(deleted)”" in page


# ---------------------------------------------------------------- test against a recent step


def test_it_tests_a_condition_against_a_recent_step(client_alice, run, make_step):
    step = make_step(run, name="search_web")
    data = {"condition_type": "step_name", "pattern": "search_*", "match": "glob", "step_id": step.pk}
    response = client_alice.post("/breakpoints/test", data, headers=htmx("bp-test-result"))
    body = response.content.decode()
    assert 'data-match="true"' in body
    assert "Match — this step would pause." in text(response)
    assert "Step #0 tool_call search_web of a run of researcher" in text(response)
    assert not Breakpoint.objects.exists()

    response = client_alice.post("/breakpoints/test", {**data, "match": "exact"}, headers=HTMX)
    assert 'data-match="false"' in response.content.decode()
    assert "No match — this step would run on." in text(response)


def test_a_custom_test_shows_the_expressions_value(client_alice, run, make_step):
    step = make_step(run, input={"query": "weather in Paris"})
    data = {"condition_type": "custom", "expression": "step.input.query", "step_id": step.pk}
    response = client_alice.post("/breakpoints/test", data, headers=HTMX)
    assert 'data-match="true"' in response.content.decode()
    assert 'Expression value "weather in Paris"' in text(response)

    data["expression"] = "step.input.missing"
    response = client_alice.post("/breakpoints/test", data, headers=HTMX)
    assert 'data-match="false"' in response.content.decode()
    assert "Expression value null" in text(response)


def test_a_custom_test_shows_why_the_expression_failed(client_alice, run, make_step):
    step = make_step(run, input={"query": 42})
    data = {"condition_type": "custom", "expression": "contains(step.input.query, 'x')", "step_id": step.pk}
    page = text(client_alice.post("/breakpoints/test", data, headers=HTMX))
    assert "No match" in page
    assert "The expression failed on this step: JMESPathTypeError" in page


def test_testing_an_invalid_condition_says_why(client_alice, run, make_step):
    step = make_step(run)
    data = {"condition_type": "custom", "expression": "step.input.query ==", "step_id": step.pk}
    response = client_alice.post("/breakpoints/test", data, headers=HTMX)
    assert 'class="callout callout-error"' in response.content.decode()
    assert "expression is not valid JMESPath" in text(response)


def test_the_test_notes_an_agent_scope_that_excludes_the_run(client_alice, run, make_step):
    step = make_step(run)
    data = {"condition_type": "step_type", "step_type": "tool_call", "agent_name": "writer", "step_id": step.pk}
    page = text(client_alice.post("/breakpoints/test", data, headers=HTMX))
    assert "No match" in page and "This breakpoint only stops runs of writer" in page


def test_testing_while_editing_without_js_keeps_the_editor_open(client_alice, breakpoint, run, make_step):
    step = make_step(run, name="search")
    data = {"breakpoint_id": breakpoint.pk, "condition_type": "step_name", "pattern": "sea*", "match": "glob"}
    response = client_alice.post("/breakpoints/test", {**data, "step_id": step.pk})
    body = response.content.decode()
    assert "sidebar" in body and "open data-autoshow" in body
    assert f'action="/breakpoints/{breakpoint.pk}/edit"' in body and 'value="sea*"' in body
    assert 'data-match="true"' in body
    breakpoint.refresh_from_db()
    assert breakpoint.condition_value == {"pattern": "search*", "match": "glob"}


# ---------------------------------------------------------------- a paused run's controls


def test_the_controls_show_the_waiting_hit(client_alice, paused, django_assert_max_num_queries):
    run, _step, _hit = paused
    with django_assert_max_num_queries(6):
        response = client_alice.get(f"/runs/{run.pk}/breakpoint", headers=htmx("run-breakpoint"))
    body = response.content.decode()
    assert body.startswith('<section class="bp-controls" id="bp-run-controls"')
    assert "sidebar" not in body
    page = text(response)
    assert "Paused at breakpoint “Before search”" in page
    assert "Step #0 search (tool_call) is waiting to run." in page
    assert "Waiting for" in page
    textarea = re.search(r'<textarea id="bp-input-[^"]+" name="input"[^>]*>(.*?)</textarea>', body, re.S)
    assert json.loads(textarea.group(1).replace("&quot;", '"')) == {"query": "weather in Paris"}
    for label in ("Continue", "Continue with edits", "Skip with output", "Abort run"):
        assert f"{label}</button>" in body
    assert response["Cache-Control"].startswith("max-age=0")


def test_the_controls_as_a_page_of_their_own(client_alice, paused):
    run = paused[0]
    body = client_alice.get(f"/runs/{run.pk}/breakpoint/").content.decode()
    assert "sidebar" in body and "css/breakpoints.css" in body
    assert f'hx-get="/runs/{run.pk}/breakpoint" hx-trigger="every 2s"' in body
    assert 'id="bp-run-controls"' in body


def test_the_controls_are_empty_when_nothing_waits(client_alice, run):
    response = client_alice.get(f"/runs/{run.pk}/breakpoint", headers=HTMX)
    assert (response.status_code, response.content) == (200, b"")
    page = text(client_alice.get(f"/runs/{run.pk}/breakpoint"))
    assert "Nothing waits at a breakpoint" in page


def test_continue_with_edits_changes_the_step_input(client_alice, ingest, paused):
    run, step, hit = paused
    edited = '{\n  "query": "weather in Lyon",\n  "max_results": 3\n}'
    response = resume(client_alice, run, hit, "edit", input=edited, output="ignored")
    assert (response.status_code, response.content) == (200, b"")
    assert toast(response) == {"level": "success", "message": "Continued with your edited input."}
    hit.refresh_from_db()
    assert (hit.status, hit.action, hit.input_edited) == (HitStatus.RESUMED, "continue", True)
    assert hit.edited_input == {"query": "weather in Lyon", "max_results": 3}
    assert hit.resolved_by.email == "alice@example.com"
    step.refresh_from_db()
    assert step.input == {"query": "weather in Lyon", "max_results": 3}
    assert step.metadata["breakpoint"]["original_input"] == {"query": "weather in Paris"}
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING
    control = ingest.get(f"/api/ingest/run/{run.pk}/control").json()
    assert control == {"action": "continue", "hit_id": str(hit.pk), "input": hit.edited_input}


def test_continue_keeps_the_input(client_alice, paused):
    run, step, hit = paused
    response = resume(client_alice, run, hit, "continue", input='{"query": "edited but not chosen"}')
    assert toast(response)["message"] == "Continued: the agent runs the step as it was."
    hit.refresh_from_db()
    step.refresh_from_db()
    assert (hit.action, hit.input_edited, step.input) == ("continue", False, {"query": "weather in Paris"})


def test_invalid_json_is_a_readable_error(client_alice, paused):
    run, _step, hit = paused
    response = resume(client_alice, run, hit, "edit", input='{"query": "Lyon",}')
    body = response.content.decode()
    assert "The step input isn&#x27;t valid JSON: Expecting property name enclosed in double quotes at line 1" in body
    assert "{&quot;query&quot;: &quot;Lyon&quot;,}</textarea>" in body  # what was typed stays to be fixed
    assert "hx-preserve" not in body.split('id="bp-abort')[0]  # the error replaces the kept form once
    hit.refresh_from_db()
    assert hit.status == HitStatus.WAITING


def test_skip_hands_back_the_output(client_alice, ingest, paused):
    run, step, hit = paused
    response = resume(client_alice, run, hit, "skip", output='{"results": ["sunny"]}')
    assert toast(response)["message"] == "Step skipped: the agent gets your output instead."
    step.refresh_from_db()
    assert (step.output, step.status) == ({"results": ["sunny"]}, StepStatus.COMPLETED)
    control = ingest.get(f"/api/ingest/run/{run.pk}/control").json()
    assert control == {"action": "skip", "hit_id": str(hit.pk), "output": {"results": ["sunny"]}}


def test_skip_needs_an_output(client_alice, paused):
    run, _step, hit = paused
    body = resume(client_alice, run, hit, "skip", output="  ").content.decode()
    assert "The output is empty: type JSON" in body
    body = resume(client_alice, run, hit, "skip", output="no results").content.decode()
    assert "to hand back text, wrap it in double quotes" in body
    hit.refresh_from_db()
    assert hit.status == HitStatus.WAITING


def test_abort_fails_the_run(client_alice, paused):
    run, step, hit = paused
    response = resume(client_alice, run, hit, "abort")
    assert toast(response) == {
        "level": "warning",
        "message": "Run aborted: the agent raises Aborted and the run ends failed.",
    }
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert run.error["message"] == "Aborted by alice@example.com at breakpoint Before search on step 0"
    hit.refresh_from_db()
    assert hit.status == HitStatus.ABORTED
    assert RunStep.objects.get(pk=step.pk).status == StepStatus.FAILED


def test_a_decision_after_someone_else_resolved_it_is_a_readable_409(client_alice, alice, paused):
    run, _step, hit = paused
    run_resume(run=run, user=alice, action="continue")  # another tab, or the JSON API
    response = resume(client_alice, run, hit, "abort")
    assert response.status_code == 200 and response.content == b""
    assert toast(response) == {
        "level": "error",
        "message": "Too late: alice@example.com already chose continue for this breakpoint.",
    }
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING

    response = resume(client_alice, run, hit, "edit", headers={}, input="{}", follow=True)
    assert response.redirect_chain == [(f"/runs/{run.pk}/breakpoint", 302)]
    assert "Too late: alice@example.com already chose continue" in text(response)


def test_after_a_decision_the_next_waiting_step_shows(client_alice, paused, make_step):
    run, _step, hit = paused
    second = make_step(run, name="search", input={"query": "second"})
    breakpoint_check_step(run=run, step=second)  # a parallel step waits too
    response = resume(client_alice, run, hit, "continue")
    assert f'id="bp-resume-{BreakpointHit.objects.get(step=second).pk}"' in response.content.decode()
    assert "Step #1 search" in text(response)


def test_a_step_that_already_failed_can_only_continue_or_abort(client_alice, run, make_step, make_breakpoint):
    make_breakpoint(name="On error", condition_type="on_error", condition_value={})
    step = make_step(run, status=StepStatus.FAILED, error={"message": "timeout"})
    breakpoint_check_step(run=run, step=step)
    response = client_alice.get(f"/runs/{run.pk}/breakpoint", headers=HTMX)
    body = response.content.decode()
    assert "ended in an error; the agent waits before going on" in text(response)
    assert "Continue with edits" not in body and "Skip with output" not in body
    assert re.search(r'<textarea id="bp-input-[^"]+" name="input"[^>]*readonly', body)
    assert "Step error" in body


def test_an_unknown_decision_changes_nothing(client_alice, paused):
    run, _step, hit = paused
    response = resume(client_alice, run, hit, "teleport")
    assert "Choose one of the buttons." in text(response)
    hit.refresh_from_db()
    assert hit.status == HitStatus.WAITING


def test_the_controls_own_page_refreshes_its_header_and_stops_polling_when_the_run_ends(client_alice, paused):
    run, _step, hit = paused
    page_url = f"http://testserver/runs/{run.pk}/breakpoint"
    headers = {**htmx("run-breakpoint"), "HX-Current-URL": page_url}
    response = client_alice.get(f"/runs/{run.pk}/breakpoint", headers=headers)
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="bp-run-controls"' in body
    assert '<div class="page-intro" id="bp-run-head" hx-swap-oob="true">' in body and 'data-status="paused"' in body

    response = resume(client_alice, run, hit, "abort", headers=headers)
    assert response.status_code == 286  # htmx stops polling an ended run
    body = response.content.decode()
    assert 'id="bp-run-controls"' not in body
    assert 'data-status="failed"' in body and "This run has ended" in body


def test_the_run_page_gets_only_the_controls(client_alice, paused):
    run = paused[0]
    headers = {**htmx("run-breakpoint"), "HX-Current-URL": f"http://testserver/runs/{run.pk}"}
    body = client_alice.get(f"/runs/{run.pk}/breakpoint", headers=headers).content.decode()
    assert "hx-swap-oob" not in body and 'id="bp-run-controls"' in body


@pytest.mark.parametrize("label,expression", EXAMPLES)
def test_every_example_expression_is_valid(client_alice, project, label, expression):
    client_alice.post("/breakpoints/new", {"name": label, "condition_type": "custom", "expression": expression})
    assert Breakpoint.objects.get().condition_value == {"expression": expression}


def test_the_editor_never_calls_a_conditions_value_optional(client_alice, project):
    """The form leaves the three value fields optional (only the chosen kind's is used), the page doesn't."""
    html = client_alice.get("/breakpoints/new").content.decode()
    for field in ("step_type", "pattern", "expression"):
        label = re.search(rf'<label for="id_{field}">(.*?)</label>', html, re.S).group(1)
        assert "optional" not in label
    agent = re.search(r'<label for="id_agent_name">(.*?)</label>', html, re.S).group(1)
    assert '<span class="optional">(optional)</span>' in agent  # a truly optional field still says so


# ---------------------------------------------------------------- on the run page (a run panel)


def test_a_live_runs_page_polls_its_breakpoint_controls(client_alice, run):
    page = client_alice.get(f"/runs/{run.pk}").content.decode()
    banners = page[page.index('id="run-banners"') : page.index('class="run-split"')]
    assert f'hx-get="/runs/{run.pk}/breakpoint"' in banners and 'hx-trigger="load, every 3s"' in banners
    assert "css/breakpoints.css" in page[: page.index("</head>")]


def test_a_finished_runs_page_does_not_poll_for_breakpoints(client_alice, run):
    Run.objects.filter(pk=run.pk).update(status=RunStatus.COMPLETED)
    page = client_alice.get(f"/runs/{run.pk}").content.decode()
    assert f"/runs/{run.pk}/breakpoint" not in page and "css/breakpoints.css" not in page


def test_resume_is_served_under_api_runs():
    assert resolve(f"/api/runs/{uuid.uuid4()}/resume").func is api.run_resume_api
