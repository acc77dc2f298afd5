"""A person pauses a real pydantic-ai agent from the breakpoints page, edits the tool's argument on
the run page in Chromium, continues, and sees the agent's answer change."""

import json

import pytest
from sdk.tests.test_breakpoints import Agent as Thread
from sdk.tests.test_breakpoints import paused_run
from sdk.tests.test_integration_pydantic_ai import weather_agent

from apps.breakpoints.tests.test_browser_breakpoints import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_pause_a_pydantic_ai_agent_edit_its_tool_argument_and_see_the_answer_change(
    page, live_server, client, alice, project, make_client
):
    sign_in(page, live_server, client, alice)
    page.goto("/breakpoints")
    page.get_by_role("link", name="New breakpoint").click()
    page.wait_for_function("document.querySelector('#bp-editor')?.matches(':modal')")
    editor = page.locator("#bp-editor")
    editor.get_by_label("Name (optional)").fill("Before search")
    editor.get_by_label("Stop when").select_option("step_name")
    editor.get_by_label("Step name", exact=True).fill("search")
    editor.get_by_label("Exact").check()
    editor.get_by_role("button", name="Create breakpoint").click()
    page.locator("#breakpoint-table tbody tr", has_text="Before search").wait_for()

    calls: list = []
    sdk = make_client()
    agent = Thread(weather_agent(sdk, calls).run_sync, "Weather in Paris?")
    run = paused_run()

    page.goto(f"/runs/{run.pk}")
    assert "pydantic-ai" in page.locator("[data-framework]").inner_text()
    controls = page.locator("#bp-run-controls")
    controls.get_by_text("Paused at breakpoint “Before search”").wait_for()
    assert controls.locator("[data-limited]").count() == 0  # pydantic-ai allows every action
    box = controls.get_by_label("Step input")
    assert json.loads(box.input_value()) == {"query": "Paris"}
    assert calls == [] and agent.is_alive()

    box.fill('{"query": "Oslo"}')
    page.get_by_role("button", name="Continue with edits").click()
    page.locator(".toast", has_text="Continued with your edited input.").wait_for()

    result, error = agent.outcome()
    assert error is None and calls == ["Oslo"]
    assert result.output == "The forecast: sunny in Oslo"
    assert sdk.flush(timeout=10)
    page.goto(f"/runs/{run.pk}?step=2")  # the model's second request, which answered
    page.get_by_text("Completed").first.wait_for()
    inspector = page.locator("#inspector")
    inspector.get_by_text("sunny in Oslo").locator(
        "visible=true"
    ).first.wait_for()  # the tool's result, as the model got it
    inspector.get_by_role("tab", name="Output").click()
    inspector.get_by_text("The forecast: sunny in Oslo").locator("visible=true").first.wait_for()
