"""Search, the step it lands on, and the session around it, in real Chromium: the demo agent
(examples/research_agent.py) answers three questions of one conversation through the real SDK."""

import importlib.util
import re
import sys
from pathlib import Path

import pytest
from django.conf import settings

import agentscope_sdk
from apps.runs.models import Run
from apps.runs.tests.test_browser import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
QUESTIONS = ["Why is Mars red?", "What are the rings of Saturn made of?", "Who discovered Pluto?"]


@pytest.fixture
def demo():
    path = Path(settings.BASE_DIR) / "examples" / "research_agent.py"
    spec = importlib.util.spec_from_file_location("research_agent_search", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    yield module
    agentscope_sdk.get_client().close()
    del sys.modules[spec.name]


def test_search_a_word_land_on_its_step_and_read_the_session(page, live_server, client, alice, api_key, demo):
    sdk = agentscope_sdk.configure(api_key=api_key[1], base_url=live_server.url, flush_interval=0.05)
    for question in QUESTIONS:
        with sdk.run("astronomy-tutor", input=question, session_id="lesson-1", user_id="student-7") as run:
            run.set_output(demo.research(question))
    assert sdk.flush(timeout=20)
    saturn = Run.objects.get(input=QUESTIONS[1])
    step = saturn.steps.filter(output__icontains="countless").order_by("step_index").first()
    assert step is not None  # the corpus search's result: "countless pieces of water ice"
    sign_in(page, live_server, client, alice)

    # 1. Search for a word the agent wrote in one step.
    page.goto("/runs")
    page.locator("#runs-q").fill("countless")
    page.wait_for_url(re.compile(r"/runs\?q=countless$"))
    hit = page.locator("[data-search-hit]")
    hit.wait_for()
    assert page.locator("tr.run-row").count() == 1
    assert hit.locator("mark").first.inner_text().lower() == "countless"

    # 2. Land on that step, the word marked.
    hit.click()
    page.wait_for_url(re.compile(rf"/runs/{saturn.pk}\?step={step.step_index}&find=countless$"))
    assert page.locator("#inspector").get_attribute("data-step") == str(step.step_index)
    assert page.locator("[data-search-found] mark").first.inner_text().lower() == "countless"
    page.screenshot(path="/tmp/search-shots/browser-step.png")

    # 3. Open its session and read the conversation.
    page.locator("[data-session-link]").click()
    page.wait_for_url(re.compile(r"/sessions/lesson-1$"))
    turns = page.locator("[data-turn]")
    assert turns.count() == 3
    for index, question in enumerate(QUESTIONS):
        assert question in turns.nth(index).locator(".bubble-user").inner_text()
    assert "countless pieces of water ice" in turns.nth(1).locator(".bubble-agent").inner_text()
    turns.nth(1).locator(".turn-link").click()
    page.wait_for_url(re.compile(rf"/runs/{saturn.pk}$"))
