"""A person sets a breakpoint in real Chromium, an agent's step stops on it through the real ingest API,
and the person edits the step's input and continues."""

import json
import re
import time

import pytest
from rest_framework.test import APIClient

from apps.breakpoints.models import Breakpoint, BreakpointHit, HitStatus
from apps.runs.models import RunStep

pytestmark = pytest.mark.browser


def sign_in(page, live_server, client, user):
    client.force_login(user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )


def test_pause_edit_the_input_and_continue(page, live_server, client, alice, project, api_key):
    sign_in(page, live_server, client, alice)

    # 1. Create a breakpoint on the tool call "search" in the editor, then switch it on in the list.
    page.goto("/breakpoints")
    assert page.get_by_text("No breakpoints yet").is_visible()
    page.get_by_role("link", name="New breakpoint").click()
    page.wait_for_function("document.querySelector('#bp-editor')?.matches(':modal')")
    editor = page.locator("#bp-editor")
    editor.get_by_label("Name (optional)").fill("Before search")
    editor.get_by_label("Stop when").select_option("step_name")
    assert editor.get_by_label("Step name", exact=True).is_visible()  # the inputs follow the type at once
    assert not editor.get_by_label("Step type", exact=True).is_visible()
    editor.get_by_label("Step name", exact=True).fill("search")
    editor.get_by_label("Exact").check()
    editor.get_by_label("Enabled").uncheck()
    editor.get_by_role("button", name="Create breakpoint").click()
    row = page.locator("#breakpoint-table tbody tr", has_text="Before search")
    row.wait_for()
    assert not editor.is_visible()
    assert "name is search (exact)" in row.inner_text()
    breakpoint = Breakpoint.objects.get()
    assert (breakpoint.condition_type, breakpoint.condition_value) == (
        "step_name",
        {"pattern": "search", "match": "exact"},
    )
    assert breakpoint.enabled is False

    switch = row.get_by_role("switch")
    assert switch.get_attribute("aria-checked") == "false"
    switch.click()
    page.locator(".toast", has_text="is on: matching steps will pause").wait_for()
    assert page.locator(f"#bp-{breakpoint.pk}").get_by_role("switch").get_attribute("aria-checked") == "true"
    breakpoint.refresh_from_db()
    assert breakpoint.enabled is True

    # 2. An agent reports a run and starts its `search` tool call: the server answers "pause".
    agent = APIClient()
    agent.credentials(HTTP_X_AGENTSCOPE_KEY=api_key[1])
    run = agent.post("/api/ingest/run", {"agent_name": "researcher", "input": {"q": "weather"}}, format="json").json()
    step = agent.post(
        f"/api/ingest/run/{run['id']}/step",
        {"step_type": "tool_call", "name": "search", "input": {"query": "weather in Paris"}},
        format="json",
    ).json()
    assert step["control"]["action"] == "pause"

    # 3. The run's breakpoint controls show which breakpoint stopped which step.
    page.goto(f"/runs/{run['id']}/breakpoint")
    controls = page.locator("#bp-run-controls")
    controls.get_by_text("Paused at breakpoint “Before search”").wait_for()
    assert "Step #0 search (tool_call) is waiting to run." in controls.inner_text()
    box = controls.get_by_label("Step input")
    assert json.loads(box.input_value()) == {"query": "weather in Paris"}

    # 4. Edit the input; the page keeps polling, and keeps what was typed.
    box.fill('{"query": "weather in Lyon"}')
    assert controls.get_by_text("Valid JSON").is_visible()
    with page.expect_response(lambda response: re.search(r"/breakpoint$", response.url) is not None):
        pass  # the next poll (every 2 s) swaps the controls in again
    assert json.loads(page.locator("#bp-run-controls").get_by_label("Step input").input_value()) == {
        "query": "weather in Lyon"
    }

    # 5. Continue with the edits.
    page.get_by_role("button", name="Continue with edits").click()
    page.locator(".toast", has_text="Continued with your edited input.").wait_for()
    page.get_by_text("Nothing waits at a breakpoint").wait_for()
    assert page.locator("#bp-run-controls").count() == 0

    # 6. The agent's next poll hears "continue" with the edited input, which is now the step's input.
    control = agent.get(f"/api/ingest/run/{run['id']}/control").json()
    hit = BreakpointHit.objects.get()
    assert control == {"action": "continue", "hit_id": str(hit.pk), "input": {"query": "weather in Lyon"}}
    assert (hit.status, hit.resolved_by) == (HitStatus.RESUMED, alice)
    stored = RunStep.objects.get(pk=step["id"])
    assert stored.input == {"query": "weather in Lyon"}
    assert stored.metadata["breakpoint"]["original_input"] == {"query": "weather in Paris"}


def test_a_paused_runs_three_durations_agree(page, live_server, client, alice, project, api_key):
    """The run so far, the waiting step and the pause come from three polls; counted on one clock in
    the page they agree: the run is at least as long as its waiting step, and that step at least as
    long as the pause (they were 6.27 s, 6.36 s and 7.18 s)."""
    Breakpoint.objects.create(
        project=project, name="Before search", condition_type="step_name", condition_value={"pattern": "search"}
    )
    agent = APIClient()
    agent.credentials(HTTP_X_AGENTSCOPE_KEY=api_key[1])
    run = agent.post("/api/ingest/run", {"agent_name": "researcher"}, format="json").json()
    time.sleep(0.3)  # the step starts a moment into the run
    body = {"step_type": "tool_call", "name": "search", "input": {"query": "weather"}}
    assert agent.post(f"/api/ingest/run/{run['id']}/step", body, format="json").json()["control"]["action"] == "pause"
    sign_in(page, live_server, client, alice)
    page.goto(f"/runs/{run['id']}")
    page.locator("[data-waited]").wait_for()
    page.wait_for_timeout(2500)  # polls of the header (2 s), the timeline (2 s) and the controls (3 s)
    seconds = page.evaluate(
        """() => [
          document.querySelector("#run-header .rh-stats [data-since]"),
          document.querySelector("#step-0 .tl-dur"),
          document.querySelector("[data-waited]"),
        ].map((element) => parseFloat(element.textContent))"""
    )
    run_so_far, step, waited = seconds
    # The pause begins as the step is posted (a few ms apart, below what three polls' transit can blur).
    assert run_so_far >= step + 0.2 and step >= waited - 0.05 and waited > 1, seconds
    assert page.locator("#step-0 .tl-dur").get_attribute("data-since") is not None


def test_a_pause_leaves_a_trace_on_the_timeline(page, live_server, client, alice, project, api_key):
    Breakpoint.objects.create(
        project=project, name="Before search", condition_type="step_name", condition_value={"pattern": "search"}
    )
    agent = APIClient()
    agent.credentials(HTTP_X_AGENTSCOPE_KEY=api_key[1])
    run = agent.post("/api/ingest/run", {"agent_name": "researcher"}, format="json").json()
    body = {"step_type": "tool_call", "name": "search", "input": {"query": "weather in Paris"}}
    step = agent.post(f"/api/ingest/run/{run['id']}/step", body, format="json").json()
    sign_in(page, live_server, client, alice)
    page.goto(f"/runs/{run['id']}")
    pause = page.locator(".tl-event")
    assert "waiting for a decision" in pause.inner_text()  # while it waits, too

    time.sleep(1.2)  # a person takes a moment, then edits the input and continues
    controls = page.locator("#bp-run-controls")
    controls.get_by_label("Step input").fill('{"query": "weather in Lyon"}')
    page.get_by_role("button", name="Continue with edits").click()
    page.locator(".toast", has_text="Continued with your edited input.").wait_for()
    # The agent hears it, runs the step (its own 12 ms, as the SDK measures it) and ends the run.
    agent.get(f"/api/ingest/run/{run['id']}/control")
    done = {"output": {"forecast": "sun"}, "latency_ms": 12}
    assert agent.patch(f"/api/ingest/run/{run['id']}/step/{step['id']}", done, format="json").status_code == 200
    agent.post(f"/api/ingest/run/{run['id']}/end", {"output": {"answer": "sun"}}, format="json")

    page.goto(f"/runs/{run['id']}")
    pause = page.locator(".tl-event")
    assert "Paused at “Before search”" in pause.inner_text()
    assert "Alice continued with an edited input" in pause.inner_text()
    assert float(pause.locator(".tl-dur").inner_text().removesuffix(" s")) >= 1.2  # how long it waited
    assert page.locator("#step-0 .tl-dur").inner_text() == "12 ms"  # the step's own time, not the wait
    waited, ran = pause.locator(".tl-bar rect").bounding_box(), page.locator("#step-0 .tl-bar rect").bounding_box()
    assert ran["x"] >= waited["x"] + waited["width"] - 2  # the step's bar is when it ran: after the pause
    pause.locator("summary").click()
    details = pause.locator(".tl-event-details").inner_text()
    assert '"weather in Paris"' in details and '"weather in Lyon"' in details
