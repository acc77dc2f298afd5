"""Every page works under the real Content-Security-Policy: no inline script, style or eval is refused."""

import uuid

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.browser

PAGES = ["/dashboard", "/runs", "/tests", "/mcp", "/mcp?tab=stats", "/breakpoints", "/settings", "/api/docs/"]


@pytest.fixture
def strict_page(chromium, live_server, client, alice):
    context = chromium.new_context(base_url=live_server.url, viewport={"width": 1400, "height": 900})
    context.set_default_timeout(10_000)
    client.force_login(alice)
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
    page = context.new_page()
    page.refused = []
    page.on(
        "console",
        lambda m: page.refused.append((page.url, m.text[:90])) if "Content Security Policy" in m.text else None,
    )
    yield page
    context.close()


def test_the_pages_keep_to_the_policy(strict_page, api_key, project):
    agent = APIClient()
    agent.credentials(HTTP_X_AGENTSCOPE_KEY=api_key[1])
    run_id = str(uuid.uuid4())
    events = [
        {"type": "run.create", "body": {"id": run_id, "agent_name": "csp-bot", "input": {"q": "<script>x</script>"}}},
        *[
            {"type": "step.create", "body": {"run_id": run_id, "step_type": "tool_call", "name": f"s{i}", "output": {}}}
            for i in range(3)
        ],
        {"type": "run.end", "body": {"run_id": run_id}},
    ]
    assert agent.post("/api/ingest/batch", {"events": events}, format="json").status_code == 207

    for path in [*PAGES, f"/runs/{run_id}"]:
        strict_page.goto(path)
        strict_page.wait_for_load_state("networkidle")
        assert strict_page.locator("body").inner_text(), path
    # htmx swaps and the app's scripts run under the policy too.
    strict_page.locator("#step-1 .tl-link").click()
    strict_page.locator('#inspector[data-step="1"]').wait_for()
    assert "step=1" in strict_page.url
    assert strict_page.refused == []
