"""A person writes a test in real Chromium, runs it on a run the agent reported, reads why it failed, fixes it
and sees it pass. The run arrives through the real ingest API, as the SDK sends it."""

import re
import uuid

import pytest

from apps.testing.models import Test, TestRun

pytestmark = pytest.mark.browser


def report_run(ingest, answer: str) -> str:
    """A support-bot run, as the SDK batches it: created, two steps, ended with its answer."""
    run_id = str(uuid.uuid4())
    events = [
        {"type": "run.create", "body": {"id": run_id, "agent_name": "support-bot", "input": {"q": "What is 6*7?"}}},
        {"type": "step.create", "body": {"run_id": run_id, "step_type": "tool_call", "name": "search", "output": {}}},
        {
            "type": "step.create",
            "body": {"run_id": run_id, "step_type": "llm_call", "name": "answer", "output": answer},
        },
        {"type": "run.end", "body": {"run_id": run_id, "output": {"answer": answer}}},
    ]
    response = ingest.post("/api/ingest/batch", {"events": events}, format="json")
    assert response.status_code == 207 and all(result["status"] in (200, 201) for result in response.json()["results"])
    return run_id


def sign_in(page, live_server, client, user) -> None:
    client.force_login(user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )


def test_write_a_test_see_it_fail_fix_it_and_see_it_pass(page, live_server, client, alice, project, ingest):
    run_id = report_run(ingest, "41")
    sign_in(page, live_server, client, alice)

    # 1. Create an assertion test in the editor: output.answer equals "42", and no errors.
    page.goto("/tests")
    assert page.get_by_text("No tests yet").is_visible()
    page.locator("header").get_by_role("button", name="New test").click()
    dialog = page.locator("#test-editor-dialog")
    dialog.wait_for(state="visible")
    dialog.get_by_label("Name", exact=True).fill("answers 42")
    dialog.get_by_label("Target agent").fill("support-bot")
    first = dialog.locator("[data-check-row]").nth(0)
    first.get_by_label("Path", exact=True).fill("output answer")  # a typo the server will point at
    first.get_by_label("Operator", exact=True).select_option("equals")
    first.get_by_label("Value", exact=True).fill("42")
    dialog.get_by_role("button", name="Add check").click()
    second = dialog.locator("[data-check-row]").nth(1)
    assert second.locator("[data-check-name]").first.inner_text() == "Check 2"
    second.get_by_label("Kind of check").select_option("no_errors")
    dialog.get_by_role("button", name="Create test").click()

    # The server refuses it, naming the check, and the dialog stays open with everything typed.
    summary = dialog.locator(".test-editor-summary")
    summary.wait_for()
    assert "Check 1, path: can't read ' answer'" in summary.inner_text()
    first = dialog.locator("[data-check-row]").nth(0)
    assert "can't read" in first.locator(".test-field-error").inner_text()
    assert dialog.locator("[data-check-row]").count() == 2 and not Test.objects.exists()
    first.get_by_label("Path", exact=True).fill("output.answer")
    dialog.get_by_role("button", name="Create test").click()
    page.wait_for_url(re.compile(r"/tests/[0-9a-f-]{36}$"))
    test = Test.objects.get()
    assert test.config["assertions"] == [{"path": "output.answer", "op": "equals", "value": "42"}, {"op": "no_errors"}]
    page.locator(".toast", has_text="created").wait_for()

    # 2. Run it against the run the agent reported (answer "41").
    page.get_by_label("Run to judge").select_option(run_id)
    page.get_by_role("button", name="Run now").click()
    panel = page.locator("#result-panel")
    panel.locator("[data-status='failed']").wait_for()
    page.locator(".toast", has_text="Failed: 1 of 2 check(s) passed.").wait_for()

    # 3. Read why: the failed check shows the message, and actual "41" against expected "42".
    failed = panel.locator(".test-check.is-failed")
    assert failed.count() == 1
    assert failed.locator(".test-check-label").inner_text() == 'output.answer equals "42"'
    assert failed.locator(".test-check-message").inner_text() == 'expected output.answer to equal "42", got "41"'
    values = failed.locator(".test-check-value")
    assert values.nth(0).inner_text().split() == ["ACTUAL", '"41"']
    assert values.nth(1).inner_text().split() == ["EXPECTED", '"42"']
    assert page.url.endswith(f"?result={TestRun.objects.get().pk}")  # a deep link to this result

    # 4. Fix it: the agent is right, the expected value was wrong.
    page.get_by_role("button", name="Edit").click()
    dialog = page.locator("#test-editor-dialog")
    dialog.wait_for(state="visible")
    value = dialog.locator("[data-check-row]").nth(0).get_by_label("Value", exact=True)
    assert value.input_value() == "42"
    value.fill("41")
    dialog.get_by_role("button", name="Save changes").click()
    page.locator(".toast", has_text="saved").wait_for()
    test.refresh_from_db()
    assert test.config["assertions"][0]["value"] == "41"

    # 5. Run it again, on the latest run: it passes.
    page.get_by_label("Run to judge").select_option("latest")
    page.get_by_role("button", name="Run now").click()
    page.locator(".toast", has_text="Passed: 2 of 2 check(s) passed.").wait_for()
    panel = page.locator("#result-panel")
    assert panel.locator("[data-status='passed']").is_visible()
    assert panel.locator(".test-check.is-failed").count() == 0
    assert "2 of 2 check(s) passed" in panel.locator(".test-result-summary").inner_text()
    history = page.locator(".test-history-table tbody tr")
    assert history.count() == 2
    assert history.nth(0).get_by_text("Passed").is_visible() and history.nth(1).get_by_text("Failed").is_visible()

    # The older, failed result is a click away, and its row is the selected one.
    history.nth(1).locator("td").nth(2).click()
    page.locator("#result-panel [data-status='failed']").wait_for()
    assert "is-selected" in page.locator(".test-history-table tbody tr").nth(1).get_attribute("class")

    # The list shows the test's health, and its switch disables it in place.
    page.goto("/tests")
    card = page.locator(f"#test-{test.pk}")
    assert card.get_by_text("Passed").is_visible() and card.get_by_text("50%").is_visible()
    card.get_by_role("switch", name="Enabled").click()
    page.locator(".toast", has_text="disabled").wait_for()
    assert card.get_by_role("switch", name="Enabled").get_attribute("aria-checked") == "false"
    test.refresh_from_db()
    assert test.enabled is False


def test_a_long_agent_name_ends_in_an_ellipsis_on_its_card(page, live_server, client, alice, project):
    from apps.testing.services import test_create

    agent = "customer-support-escalation-agent-for-the-enterprise-tier"
    config = {"target": {"agent_name": agent}, "assertions": [{"op": "no_errors"}]}
    test_create(project=project, name="Escalates politely", test_type="assertion", config=config)
    sign_in(page, live_server, client, alice)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/tests")
    name = page.locator(".test-agent-name")
    assert name.evaluate("e => e.scrollWidth > e.clientWidth")  # too long for the card: it is cut...
    assert name.evaluate("e => getComputedStyle(e).textOverflow") == "ellipsis"  # ...with an ellipsis


def test_the_pass_rate_chart_draws_shares_on_its_percent_axis(page, live_server, client, alice, project, ingest):
    from apps.testing.services import test_create, test_execute

    config = {
        "target": {"agent_name": "support-bot"},
        "assertions": [{"path": "output.answer", "op": "equals", "value": "42"}],
    }
    test = test_create(project=project, name="Answers 42", test_type="assertion", config=config)
    for answer in ("42", "41", "41", "41"):
        test_execute(test=test, run_id=report_run(ingest, answer))
    sign_in(page, live_server, client, alice)
    page.goto("/tests")
    bars = page.locator(".test-trend-bar")
    top, bottom = (page.locator(".test-trend-grid").nth(i).bounding_box()["y"] for i in (0, 2))
    passed, failed = bars.locator("xpath=self::*[contains(@class,'passed')]"), page.locator(".test-trend-bar.failed")
    # 1 of 4 passed: the green share is a quarter of the 0-100% axis, the red three quarters
    assert abs(passed.bounding_box()["height"] - (bottom - top) / 4) < 1.5
    assert abs(failed.bounding_box()["height"] - 3 * (bottom - top) / 4) < 1.5


def test_judge_a_new_test_against_the_runs_already_recorded(page, live_server, client, alice, project, ingest):
    from apps.testing.services import test_create

    for answer in ("42", "41", "42"):
        report_run(ingest, answer)
    config = {
        "target": {"agent_name": "support-bot"},
        "assertions": [{"path": "output.answer", "op": "equals", "value": "42"}],
    }
    test = test_create(project=project, name="Answers 42", test_type="assertion", config=config)
    sign_in(page, live_server, client, alice)
    page.goto(f"/tests/{test.pk}")
    assert page.get_by_text("It has judged no run yet").is_visible()
    page.get_by_label("How many runs").select_option("10")
    page.get_by_role("button", name="Judge them").click()
    page.locator('[data-backfill="done"]').wait_for()
    assert "Judged 3 runs" in page.locator("#backfill").inner_text()
    page.locator(".toast", has_text="Judged 3 runs: 2 passed, 1 failed.").wait_for()
    page.wait_for_function("document.querySelectorAll('.test-history-table tbody tr').length === 3")
