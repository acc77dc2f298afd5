"""The runs pages read true and work by mouse, keyboard and phone (issue "Every number true, every
screen usable"), in real Chromium on runs sent through the ingest API."""

import re

import pytest

from apps.runs.tests.test_browser import send_demo_run, shown, sign_in

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


def send_failed_run(ingest) -> str:
    """A run that fails in a step that took under a millisecond, after a step that took 40 ms."""
    run_id = ingest.post("/api/ingest/run", {"agent_name": "research-assistant"}, format="json").json()["id"]
    for body in (
        {"step_type": "llm_call", "name": "plan", "output": {"text": "read it"}, "latency_ms": 40},
        {"step_type": "tool_call", "name": "read_document", "latency_ms": 0,
         "error": {"type": "KeyError", "message": "no document 'planet-x' in the corpus", "stack": "Traceback...\n" * 40}},
    ):  # fmt: skip
        assert ingest.post(f"/api/ingest/run/{run_id}/step", body, format="json").status_code == 201
    error = {"type": "KeyError", "message": "no document 'planet-x' in the corpus"}
    ingest.post(f"/api/ingest/run/{run_id}/end", {"error": error}, format="json")
    return run_id


def test_a_click_on_a_runs_checkbox_picks_it_for_compare(page, live_server, client, alice, ingest):
    first, second = send_demo_run(ingest), send_demo_run(ingest)
    sign_in(page, live_server, client, alice)
    page.goto("/runs")
    page.locator(f"#run-{first} [data-compare-pick]").click()  # the mouse, not Space
    page.locator(f"#run-{second} .pick").click(position={"x": 4, "y": 4})  # the cell's corner counts too
    assert page.url.endswith("/runs")  # the row's link didn't open the run
    assert page.locator("[data-compare-pick]:checked").count() == 2
    page.locator("[data-compare-submit]").click()
    page.wait_for_url(re.compile(r"/runs/[0-9a-f-]+/compare/[0-9a-f-]+$"))


def test_the_runs_list_footer_counts_the_page_not_every_run(page, live_server, client, alice, ingest):
    for _ in range(3):
        send_demo_run(ingest)
    sign_in(page, live_server, client, alice)
    page.goto("/runs?page_size=2")
    assert page.locator("[data-page-count]").inner_text() == "2 on this page · newest first"
    # After "Older", the new page shows from its top, not from where the button was.
    page.set_viewport_size({"width": 1400, "height": 400})
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.get_by_role("link", name="Older").click()
    page.wait_for_url(re.compile(r"cursor="))
    page.wait_for_function("document.querySelectorAll('tr.run-row').length === 1")
    page.wait_for_function("window.scrollY < 120")


def test_a_sub_millisecond_failed_step_reads_under_1_ms_and_shows_a_bar(page, live_server, client, alice, ingest):
    run_id = send_failed_run(ingest)
    sign_in(page, live_server, client, alice)
    page.goto(f"/runs/{run_id}")
    row = page.locator("#step-1")
    assert row.locator(".tl-dur").inner_text() == "<1 ms"
    tick = row.locator(".tl-bar .tl-tick").bounding_box()
    assert tick and tick["width"] >= 2  # a mark a person can see, though the step is 0.1% of the run
    assert row.locator(".tl-bar").bounding_box()["x"] <= tick["x"]


def test_a_failed_runs_error_is_on_the_first_screen_of_a_phone(page, live_server, client, alice, ingest):
    run_id = send_failed_run(ingest)
    sign_in(page, live_server, client, alice)
    page.set_viewport_size(PHONE)
    page.goto(f"/runs/{run_id}")
    error = page.locator("[data-run-error]")
    assert "no document 'planet-x' in the corpus" in error.inner_text()
    assert error.bounding_box()["y"] + error.bounding_box()["height"] <= PHONE["height"]
    # A tap on a step brings the inspector, below the timeline, into view.
    page.locator("#step-0 .tl-link").click()
    shown(page, 0)
    # (it was 714 px down, below the fold; now its head shows under the top bar)
    page.wait_for_function(
        "(top => top >= 56 && top < innerHeight / 2)(document.querySelector('#inspector').getBoundingClientRect().top)"
    )
    # The stack trace wraps inside the window and takes the keyboard's focus to scroll.
    page.locator("#step-1 .tl-link").click()
    shown(page, 1)
    stack = page.locator("#stack-trace")
    assert stack.get_attribute("tabindex") == "0"
    assert stack.evaluate("e => e.scrollWidth <= e.clientWidth")


def test_the_inspector_tabs_are_one_tab_stop_moved_by_arrows(page, live_server, client, alice, ingest):
    run_id = send_demo_run(ingest)
    sign_in(page, live_server, client, alice)
    page.goto(f"/runs/{run_id}?step=0")
    shown(page, 0)
    assert page.locator('#inspector [role="tab"]:not([tabindex="-1"])').count() == 1
    page.locator('#inspector [role="tab"][aria-selected="true"]').focus()
    page.keyboard.press("ArrowRight")
    focused = page.evaluate("document.activeElement.dataset.tab")
    assert page.locator(f'#inspector [data-tab="{focused}"]').get_attribute("aria-selected") == "true"
    page.keyboard.press("End")
    assert page.evaluate("document.activeElement.dataset.tab") == "error"
    page.keyboard.press("Home")
    assert page.evaluate("document.activeElement.dataset.tab") == "input"


def test_a_skip_link_jumps_past_the_timeline_to_the_inspector(page, live_server, client, alice, ingest):
    run_id = send_demo_run(ingest)
    sign_in(page, live_server, client, alice)
    page.goto(f"/runs/{run_id}")
    page.locator("#tl-type").focus()
    page.keyboard.press("Shift+Tab")  # the skip link comes first in the timeline
    assert page.evaluate("document.activeElement.dataset.skipToInspector") == ""
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "inspector"


def test_after_j_the_focus_ring_is_on_the_tab_shown(page, live_server, client, alice, ingest):
    run_id = send_demo_run(ingest)  # step 1 is a plain step, step 2 failed: its Error tab opens
    sign_in(page, live_server, client, alice)
    page.goto(f"/runs/{run_id}?step=1")
    shown(page, 1)
    page.locator('#inspector [data-tab="output"]').click()
    page.keyboard.press("j")
    shown(page, 2)
    page.wait_for_function("document.activeElement.dataset.tab === 'error'")
    assert page.locator('#inspector [data-tab="error"]').get_attribute("aria-selected") == "true"


def test_a_failure_shows_on_its_row_and_on_a_collapsed_parent(page, live_server, client, alice, ingest):
    run_id = send_demo_run(ingest)  # lookup (step 1) holds search (step 2), which timed out
    sign_in(page, live_server, client, alice)
    page.goto(f"/runs/{run_id}")
    assert page.locator("#step-2 .tl-error").inner_text() == "timeout"
    assert not page.locator("#step-1 .tl-inside").is_visible()  # open: the failed step shows itself
    page.locator("#step-1 .tl-caret").click()
    assert page.locator("#step-2").is_hidden()
    assert page.locator("#step-1 .tl-inside").inner_text() == "failed inside"
    page.locator("[data-tl-fold=expand]").click()
    assert not page.locator("#step-1 .tl-inside").is_visible()


def test_the_compare_page_uses_its_width_and_balances_the_two_sides(page, live_server, client, alice, ingest):
    first, second = send_demo_run(ingest), send_failed_run(ingest)
    sign_in(page, live_server, client, alice)
    page.goto(f"/runs/{first}/compare/{second}")
    card, totals = page.locator(".compare-head").bounding_box(), page.locator(".compare-totals").bounding_box()
    assert totals["width"] >= card["width"] - 48  # the totals span their card, not half of it
    a, b = page.locator(".jc-a").first.bounding_box(), page.locator(".jc-b").first.bounding_box()
    assert abs(a["width"] - b["width"]) < 2  # A and B: equal columns, whatever their values
