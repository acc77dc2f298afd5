"""Cost in real Chromium: a demo-like run's cost on the run page, the runs list and the dashboard;
then a price for its unpriced model added on Settings, Prices, a recompute, and the totals change."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from playwright.sync_api import expect
from rest_framework.test import APIClient

from apps.projects.services import api_key_create

pytestmark = pytest.mark.browser

# Per million tokens: gpt-4o-mini $0.15 in, $0.60 out; gpt-4o $2.50 in, $1.25 cached, $10 out.
CALLS = [
    ("plan", "gpt-4o-mini", {"input_tokens": 2_000, "output_tokens": 100}),  # 0.0003 + 0.00006
    (
        "answer",
        "gpt-4o",
        {"input_tokens": 4_000, "cache_read_tokens": 1_000, "output_tokens": 200},
    ),  # 0.0075 + 0.00125 + 0.002
    ("explain", "scope-tutor-1", {"input_tokens": 1_000, "output_tokens": 500}),  # no public price
]
PRICED = Decimal("0.01111")


def send_demo_run(project) -> str:
    ingest = APIClient()
    ingest.credentials(HTTP_X_AGENTSCOPE_KEY=api_key_create(project=project, name="demo")[1])
    started = datetime.now(UTC) - timedelta(minutes=5)
    run_id = ingest.post(
        "/api/ingest/run", {"agent_name": "research-assistant", "started_at": started.isoformat()}, format="json"
    ).json()["id"]
    for name, model, usage in CALLS:
        body = {
            "step_type": "llm_call",
            "name": name,
            "model": model,
            "provider": "openai",
            "usage": usage,
            "output": "ok",
        }
        assert ingest.post(f"/api/ingest/run/{run_id}/step", body, format="json").status_code == 201
    ingest.post(f"/api/ingest/run/{run_id}/end", {"output": "done"}, format="json")
    return run_id


def test_a_runs_cost_everywhere_and_a_custom_price_changes_it(page, live_server, client, alice, project):
    run_id = send_demo_run(project)
    client.force_login(alice)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )

    # The run page: its total (with a mark for the call without a price), each step's cost.
    page.goto(f"/runs/{run_id}")
    assert page.locator('[data-stat="cost"]').inner_text().strip() == "$0.0111+"
    rows = page.locator(".tl-row .tl-cost")
    assert rows.all_inner_texts() == ["$0.00036", "$0.0108", "no price"]
    page.locator(".tl-row", has_text="answer").locator("a.tl-link").click()
    expect(page.locator('[data-fact="cost"]')).to_contain_text("$0.0108")  # the inspector, swapped in by htmx
    expect(page.locator('[data-fact="cost"]')).to_contain_text("cache read $0.00125")

    # The runs list, filtered by cost.
    page.goto("/runs?cost_min=0.01")
    assert page.locator("td[data-cost]").all_inner_texts() == ["$0.0111+"]
    page.goto("/runs?cost_min=0.02")
    assert page.locator("td[data-cost]").count() == 0

    # The dashboard's total.
    page.goto("/dashboard")
    assert page.locator('[data-stat="total_cost_usd"] .stat-value').inner_text() == "$0.0111"
    assert page.locator(".chart-cost").count() == 1

    # A price for the tutor model, on Settings, Prices.
    page.goto("/settings")
    page.get_by_role("link", name="Prices").click()
    page.fill("#id_model", "scope-tutor-*")
    page.select_option("#id_match", "glob")
    page.fill("#id_input_per_million", "10")
    page.fill("#id_output_per_million", "20")
    page.get_by_role("button", name="Add price").click()
    assert page.locator("#custom-prices").inner_text().count("scope-tutor-*") == 1

    call_command("costs_recompute", project=str(project.pk), since="2020-01-01", no_progress=True)
    total = PRICED + (1_000 * 10 + 500 * 20) / Decimal(1_000_000)  # + $0.02
    assert total == Decimal("0.03111")
    page.goto(f"/runs/{run_id}")
    assert page.locator('[data-stat="cost"]').inner_text().strip() == "$0.0311"
    assert page.locator(".tl-row .tl-cost").all_inner_texts()[-1] == "$0.02"
    page.goto("/runs")
    assert page.locator("td[data-cost]").all_inner_texts() == ["$0.0311"]
    page.goto("/dashboard")
    assert page.locator('[data-stat="total_cost_usd"] .stat-value').inner_text() == "$0.0311"
