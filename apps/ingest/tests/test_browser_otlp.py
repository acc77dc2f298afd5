"""An agent that has never heard of AgentScope, exporting OpenTelemetry, seen on the run page in Chromium."""

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

from apps.ingest.tests.otlp_agents import ANSWER, QUESTION, pydantic_ai_run, tracer_provider
from apps.runs.models import Run

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, live_server, client, user):
    client.force_login(user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )


def test_a_pydantic_ai_run_exported_over_otlp_on_the_run_page(page, live_server, client, alice, project, api_key):
    exporter = OTLPSpanExporter(endpoint=f"{live_server.url}/v1/traces", headers={"X-Agentscope-Key": api_key[1]})
    with ThreadPoolExecutor(1) as thread:  # Playwright's event loop runs in this one; the agent wants its own
        thread.submit(pydantic_ai_run, tracer_provider(exporter, batch=False)).result()  # a request a span: root last
    run = Run.objects.get(project=project)
    sign_in(page, live_server, client, alice)

    page.goto("/runs")
    page.get_by_role("link", name="weather_agent").click()
    page.wait_for_url(re.compile(rf"/runs/{run.pk}$"))
    rows = page.locator("#timeline-rows > .tl-row:not(.tl-root)")
    assert rows.count() == 4
    # Nested under the agent's step, typed, in the order they started.
    assert page.locator("#step-0").get_attribute("class").split().count("d0") == 1
    for index, kind in ((1, "llm_call"), (2, "tool_call"), (3, "llm_call")):
        assert "d1" in page.locator(f"#step-{index}").get_attribute("class").split()
        assert page.locator(f"#step-{index} .tl-icon.type-{kind}").count() == 1
    assert page.locator("#step-2 .tl-label").inner_text() == "get_weather"

    # The first model call: the conversation, the tool it asked for, its tokens.
    page.locator("#step-1 .tl-link").click()
    page.locator('#inspector[data-step="1"]').wait_for()
    chat = page.locator("#inspector .chat").first
    assert chat.get_by_text(QUESTION).is_visible() and chat.get_by_text("Answer in one sentence.").is_visible()
    page.locator('#inspector [data-tab="output"]').click()
    call = page.locator("#panel-output .msg-tool")
    assert "get_weather" in call.inner_text() and '"city": "Paris"' in call.inner_text()
    facts = page.locator("#inspector .insp-facts").inner_text()
    step = run.steps.get(step_index=1)
    assert (
        f"in {step.metadata['usage']['input_tokens']}" in facts
        and f"out {step.metadata['usage']['output_tokens']}" in facts
    )
    assert "function:model:" in facts

    # The tool call: its arguments and result.
    page.locator("#step-2 .tl-link").click()
    page.locator('#inspector[data-step="2"]').wait_for()
    assert "get_weather" in page.locator("#inspector .insp-facts").inner_text()
    page.locator('#inspector [data-tab="input"]').click()
    assert "Paris" in page.locator("#panel-input").inner_text()
    page.locator('#inspector [data-tab="output"]').click()
    assert "sunny in Paris" in page.locator("#panel-output").inner_text()

    # The last model call answered; so did the run.
    page.locator("#step-3 .tl-link").click()
    page.locator('#inspector[data-step="3"]').wait_for()
    page.locator('#inspector [data-tab="output"]').click()
    assert page.locator("#panel-output .chat").get_by_text(ANSWER).is_visible()
    assert page.locator("#run-header").get_attribute("data-status") == "completed"
