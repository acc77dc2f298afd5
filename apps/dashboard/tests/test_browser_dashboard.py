"""The dashboard in real Chromium, on runs sent through the ingest API with two projects' keys."""

import re
from datetime import UTC, datetime, time, timedelta

import pytest
from rest_framework.test import APIClient

from apps.projects.services import api_key_create, project_create

pytestmark = pytest.mark.browser


def key_client(project) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_X_AGENTSCOPE_KEY=api_key_create(project=project, name="agent")[1])
    return client


def send(ingest, agent_name: str, started_at: datetime, failed: bool = False) -> str:
    run = ingest.post(
        "/api/ingest/run", {"agent_name": agent_name, "started_at": started_at.isoformat()}, format="json"
    )
    run_id = run.json()["id"]
    end = {"ended_at": (started_at + timedelta(seconds=2)).isoformat(), "output": {"ok": not failed}}
    if failed:
        end["error"] = {"message": "tool failed"}
    assert ingest.post(f"/api/ingest/run/{run_id}/end", end, format="json").status_code == 200
    return run_id


def stat(page, key: str) -> str:
    return page.locator(f'[data-stat="{key}"] .stat-value').inner_text()


def test_switch_projects_change_the_period_hover_a_day_open_a_run(page, live_server, client, alice, project):
    other = project_create(user=alice, name="Night shift")
    midnight = datetime.combine(datetime.now(UTC).date(), time.min, tzinfo=UTC)
    ours, theirs = key_client(project), key_client(other)
    for n in range(3):
        send(ours, "support-bot", midnight - timedelta(days=2, hours=-n - 1), failed=n == 0)
    send(ours, "support-bot", midnight - timedelta(days=20))  # only in the 30-day period
    last = send(ours, "planner", midnight - timedelta(days=1, hours=-3))
    send(theirs, "night-agent", midnight - timedelta(days=1, hours=-2), failed=True)

    client.force_login(alice)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page.goto(f"/dashboard?project={project.id}")
    assert (stat(page, "total_runs"), stat(page, "failed_runs")) == ("4", "1")

    # 1. The sidebar's switcher: the other project's numbers.
    page.select_option("#project-select", str(other.id))
    page.wait_for_url(re.compile(rf"project={other.id}"))
    assert (stat(page, "total_runs"), stat(page, "failed_runs")) == ("1", "1")
    page.select_option("#project-select", str(project.id))
    page.wait_for_url(re.compile(rf"project={project.id}"))

    # 2. The period selector swaps the body in place and pushes the URL.
    page.get_by_role("link", name="30d").click()
    page.wait_for_url(re.compile(r"period=30d"))
    page.locator('.segmented a.active:has-text("30d")').wait_for()
    assert stat(page, "total_runs") == "5"
    page.get_by_role("link", name="24h").click()
    page.wait_for_url(re.compile(r"period=24h"))
    assert stat(page, "total_runs") in ("0", "1")  # the planner's run is inside 24h until 03:00

    # 3. The chart follows the period (24h is by the hour); on 7d, hovering a day of the chart shows
    #    its exact numbers (the SVG <title>).
    assert page.locator(".chart-bars .chart-col").count() == 24
    page.get_by_role("link", name="7d").click()
    page.wait_for_url(re.compile(r"period=7d"))
    day = (midnight - timedelta(days=2)).date()
    column = page.locator(f'.chart-col[data-date="{day.isoformat()}"]')
    column.hover()
    assert column.locator("title").text_content() == f"{day:%a %b} {day.day}: 3 runs, 1 failed (33.3% error rate)"
    assert page.evaluate("document.querySelector('.chart-col:hover')?.dataset.date") == day.isoformat()

    # 4. A recent run opens its page.
    page.locator(".dash-runs .row-link").first.click()
    page.wait_for_url(re.compile(rf"/runs/{last}"))


def test_a_click_on_a_bars_red_part_lists_that_days_failed_runs(page, live_server, client, alice, project):
    ingest = key_client(project)
    today = datetime.combine(datetime.now(UTC).date(), time.min, tzinfo=UTC) + timedelta(minutes=1)
    yesterday = today - timedelta(days=1)
    failed = send(ingest, "planner", yesterday, failed=True)
    send(ingest, "planner", yesterday)
    send(ingest, "planner", today, failed=True)
    client.force_login(alice)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page.goto("/dashboard")
    page.locator(f'.chart-col[data-date="{yesterday.date().isoformat()}"] .chart-link:has(.chart-failed)').click()
    page.wait_for_url(re.compile(r"/runs\?started_after=.*&status=failed$"))
    assert page.locator("tr.run-row").count() == 1
    assert page.locator(f"#run-{failed}").count() == 1
