"""The whole breakpoint story in real Chromium with the real demo agent and SDK: the agent stops before
its corpus search, a person changes the query on the run's page, and the agent goes on with it."""

import importlib.util
import json
import sys
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings

import agentscope_sdk
from apps.breakpoints.models import Breakpoint
from apps.breakpoints.services import breakpoint_create
from apps.runs.models import Run, RunStep

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def demo_agent():
    path = Path(settings.BASE_DIR) / "examples" / "research_agent.py"
    spec = importlib.util.spec_from_file_location("research_agent_demo", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def wait_for_paused_run(seconds: float = 20) -> Run:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        run = Run.objects.filter(agent_name="research-assistant", status="paused").first()
        if run is not None:
            return run
        time.sleep(0.1)
    raise AssertionError(f"no paused run; runs: {list(Run.objects.values_list('agent_name', 'status'))}")


def sign_in(page, live_server, client, user):
    client.force_login(user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )


def test_the_agent_pauses_takes_the_edited_query_and_finishes(page, live_server, client, alice, project, api_key):
    sign_in(page, live_server, client, alice)
    breakpoint_create(
        project=project,
        name="Before the corpus search",
        condition_type="step_name",
        condition_value={"pattern": "search_corpus", "match": "exact"},
        enabled=False,
    )

    # 1. Enable the breakpoint on its page.
    page.goto("/breakpoints")
    page.locator("#breakpoint-table tbody tr", has_text="Before the corpus search").get_by_role("switch").click()
    page.locator(".toast", has_text="matching steps will pause").wait_for()
    assert Breakpoint.objects.get().enabled

    # 2. Start the demo agent: it plans, then its corpus search stops at the breakpoint.
    agent = demo_agent()
    client_sdk = agentscope_sdk.configure(api_key=api_key[1], base_url=live_server.url, flush_interval=0.05)
    answer: dict = {}
    thread = threading.Thread(target=lambda: answer.update(text=agent.research("Why is Mars red?")), daemon=True)
    thread.start()
    try:
        # 3. The runs list and the run's page show it paused, with the pending input.
        run = wait_for_paused_run()
        page.goto("/runs")
        assert page.locator("tbody tr", has_text="research-assistant").get_by_text("Paused").is_visible()
        page.goto(f"/runs/{run.id}")
        controls = page.locator("#bp-run-controls")
        controls.get_by_text("Paused at breakpoint “Before the corpus search”").wait_for(timeout=15_000)
        box = controls.get_by_label("Step input")
        assert json.loads(box.input_value()) == {"query": "mars red"}

        # 4. Edit the query, and 5. continue with it.
        box.fill('{"query": "saturn rings"}')
        page.get_by_role("button", name="Continue with edits").click()
        page.locator(".toast", has_text="Continued with your edited input.").wait_for()

        # 6. The agent goes on with the edited query and the run finishes; the page follows it live.
        thread.join(timeout=30)
        assert not thread.is_alive()
        client_sdk.flush(timeout=10)
        page.locator(".run-header, header").get_by_text("Completed").first.wait_for(timeout=20_000)
    finally:
        client_sdk.close(timeout=5)
    search = RunStep.objects.get(run=run, name="search_corpus")
    assert search.input == {"query": "saturn rings"}
    assert search.metadata["breakpoint"]["original_input"] == {"query": "mars red"}
    assert "saturn" in json.dumps(search.output).lower()
    assert "saturn.txt" in answer["text"]  # the answer now comes from the edited search
    assert Run.objects.get(pk=run.pk).status == "completed"
