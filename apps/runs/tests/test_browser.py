"""The run debugger in real Chromium, on runs sent through the ingest API as an agent sends them."""

import contextlib
import json
import re

import pytest

pytestmark = pytest.mark.browser


def sign_in(page, live_server, client, user):
    client.force_login(user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )


def send_demo_run(ingest) -> str:
    """plan → lookup { search (fails), read } → answer, through the ingest API."""
    run = ingest.post("/api/ingest/run", {"agent_name": "research-assistant", "input": {"q": "Mars?"}}, format="json")
    run_id = run.json()["id"]

    def step(**body):
        response = ingest.post(f"/api/ingest/run/{run_id}/step", body, format="json")
        assert response.status_code == 201, response.content
        return response.json()["id"]

    step(
        step_type="llm_call",
        name="plan",
        input={"messages": [{"role": "system", "content": "Plan."}, {"role": "user", "content": "Why is Mars red?"}]},
        output={"choices": [{"message": {"role": "assistant", "content": "Search, then read."}}]},
        metadata={"model": "gpt-4o-mini", "prompt_tokens": 12, "completion_tokens": 5},
        tokens_used=17,
    )
    lookup = step(step_type="custom", name="lookup", input={"topic": "mars"}, output={"ok": True})
    step(
        step_type="tool_call",
        name="search",
        parent_id=lookup,
        input={"query": "mars colour"},
        error={"message": "timeout"},
    )
    step(step_type="tool_call", name="read_document", parent_id=lookup, input={"doc": "mars"}, output={"text": "Rust."})
    step(step_type="llm_call", name="answer", input={"facts": ["iron oxide"]}, output={"text": "Because of rust."})
    ingest.post(f"/api/ingest/run/{run_id}/end", {"output": {"answer": "Rust."}}, format="json")
    return run_id


def inspector_title(page) -> str:
    return page.locator("#inspector h2").inner_text()


def shown(page, index: int) -> None:
    """Waits for the URL and the inspector to show step `index` (htmx pushes the URL before it swaps)."""
    page.wait_for_url(re.compile(rf"\?step={index}$"))
    page.locator(f'#inspector[data-step="{index}"]').wait_for()


def test_debug_a_run_step_by_step(page, live_server, client, alice, ingest):
    run_id = send_demo_run(ingest)
    sign_in(page, live_server, client, alice)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)

    # 1. Open the run from the list.
    page.goto("/runs")
    page.get_by_role("link", name="research-assistant").click()
    page.wait_for_url(re.compile(rf"/runs/{run_id}$"))
    assert inspector_title(page) == "Run"
    assert page.locator("#timeline-rows > .tl-row").count() == 6  # the run and its five steps

    # 2. Click through steps: the inspector loads each, the URL follows.
    page.locator("#step-0 .tl-link").click()
    shown(page, 0)
    assert inspector_title(page) == "plan"
    assert page.locator("#inspector .chat").get_by_text("Why is Mars red?").is_visible()
    assert "gpt-4o-mini" in page.locator("#inspector .insp-facts").inner_text()
    # The inspector arrives with its own tabs: the error panel shows from the first frame, not the last
    # step's tab (htmx would otherwise lend the new panels the old ones' classes until it settles).
    page.evaluate(
        """new MutationObserver(() => {
             const panel = document.querySelector('#inspector[data-step="2"] #panel-error');
             if (panel && window.firstErrorDisplay === undefined) window.firstErrorDisplay = getComputedStyle(panel).display;
           }).observe(document.body, {childList: true, subtree: true})"""
    )
    page.locator("#step-2 .tl-link").click()
    shown(page, 2)
    assert page.evaluate("window.firstErrorDisplay") == "flex"
    assert page.locator("#inspector .error-box").get_by_text("timeout").is_visible()
    assert page.locator("#step-2").get_attribute("class").count("is-selected") == 1

    # 3. j and k move between steps.
    page.keyboard.press("j")
    shown(page, 3)
    assert inspector_title(page) == "read_document"
    page.keyboard.press("k")
    page.keyboard.press("k")
    shown(page, 1)
    assert inspector_title(page) == "lookup"

    # Collapsing "lookup" hides the steps inside it.
    page.locator("#step-1 .tl-caret").click()
    assert page.locator("#step-2").is_hidden() and page.locator("#step-3").is_hidden()
    page.locator("#step-1 .tl-caret").click()
    assert page.locator("#step-2").is_visible()

    # 4. Collapse a JSON node.
    page.locator("#step-0 .tl-link").click()
    shown(page, 0)
    page.locator('#inspector [data-tab="input"]').click()
    node = page.locator("#panel-input details.jv-node").first
    assert node.evaluate("el => el.open")
    node.locator("summary").first.click()
    assert not node.evaluate("el => el.open")

    # 5. Copy the section.
    page.locator("#panel-input [data-json-copy]").click()
    page.locator("#panel-input [data-json-copy].is-copied").wait_for()
    copied = json.loads(page.evaluate("navigator.clipboard.readText()"))
    assert copied["messages"][1] == {"role": "user", "content": "Why is Mars red?"}

    # Back goes to the previous step.
    page.go_back()
    shown(page, 1)

    # 6. A deep link opens that step.
    page.goto(f"/runs/{run_id}?step=4")
    assert inspector_title(page) == "answer"
    assert "is-selected" in page.locator("#step-4").get_attribute("class")

    # 7. Ctrl-click opens a step in a new tab, as a link does, and leaves this page as it is.
    with page.context.expect_page() as opened:
        page.locator("#step-1 .tl-link").click(modifiers=["ControlOrMeta"])
    opened.value.wait_for_url(re.compile(rf"/runs/{run_id}\?step=1$"))
    assert opened.value.locator("#inspector h2").inner_text() == "lookup"
    assert inspector_title(page) == "answer" and page.url.endswith("?step=4")


def test_watch_a_live_run_gain_steps(page, live_server, client, alice, ingest):
    run = ingest.post("/api/ingest/run", {"agent_name": "live-agent", "input": {"n": 2}}, format="json").json()
    first = ingest.post(
        f"/api/ingest/run/{run['id']}/step",
        {"step_type": "llm_call", "name": "think", "input": {"i": 0}},
        format="json",
    ).json()
    sign_in(page, live_server, client, alice)
    page.goto(f"/runs/{run['id']}")
    assert page.locator("#run-header .badge").inner_text() == "Running"
    assert page.locator(".tl-poll").is_visible()
    assert "tone-info" in page.locator("#step-0").get_attribute("class")  # blue: in progress

    # 7. The agent goes on while the page is open.
    ingest.patch(f"/api/ingest/run/{run['id']}/step/{first['id']}", {"output": {"text": "ok"}}, format="json")
    ingest.post(f"/api/ingest/run/{run['id']}/step", {"step_type": "tool_call", "name": "search"}, format="json")
    live = {"timeout": 20_000}  # polls every 2 s; a loaded CI machine may answer slowly
    page.locator("#step-1").wait_for(**live)
    assert page.locator("#step-1 .tl-label").inner_text() == "search"
    page.wait_for_function("document.querySelector('#step-0').classList.contains('tone-success')", **live)
    page.wait_for_function("document.querySelector('[data-stat=steps]').textContent.trim() === '2'", **live)

    ingest.post(f"/api/ingest/run/{run['id']}/end", {"output": {"done": True}}, format="json")
    page.wait_for_function("document.querySelector('#run-header .badge').textContent.trim() === 'Completed'", **live)
    page.locator(".tl-poll").wait_for(state="detached", **live)
    assert page.locator("#run-header").get_attribute("hx-trigger") is None  # polling stopped


def test_filter_the_runs_list_go_back_and_delete_a_run(page, live_server, client, alice, ingest):
    for name in ("support-bot", "sql-agent", "sql-agent"):
        run = ingest.post("/api/ingest/run", {"agent_name": name}, format="json").json()
        ingest.post(f"/api/ingest/run/{run['id']}/end", {}, format="json")
    sign_in(page, live_server, client, alice)
    page.goto("/runs")
    assert page.locator("tr.run-row").count() == 3

    page.locator("#runs-agent").select_option("sql-agent")  # htmx swaps the results, the URL follows
    page.wait_for_url(re.compile(r"/runs\?agent_name=sql-agent$"))
    page.wait_for_function("document.querySelectorAll('tr.run-row').length === 2")
    page.get_by_placeholder('Search every step: words, "a phrase", prefix*').fill("support")
    page.wait_for_url(re.compile(r"/runs\?q=support&agent_name=sql-agent$"))
    page.get_by_text("No runs match these filters").wait_for()

    page.go_back()
    page.wait_for_url(re.compile(r"/runs\?agent_name=sql-agent$"))
    page.wait_for_function("document.querySelectorAll('tr.run-row').length === 2")

    row = page.locator("tr.run-row").first
    row.get_by_role("button", name="Delete run").click()
    dialog = page.locator("#confirm-dialog")
    dialog.wait_for(state="visible")
    dialog.get_by_role("button", name="Delete run").click()
    page.wait_for_function("document.querySelectorAll('tr.run-row').length === 1")
    page.locator(".toast", has_text="deleted").wait_for()


def test_steps_asked_for_while_live_polls_redraw_the_timeline_arrive_whole(page, live_server, client, alice, ingest):
    """A live run whose steps are all running: every poll redraws their rows. j, a redraw lands before
    the step does, j again, another redraw: the selection follows the keys, and the step arrives
    whole (one inspector, its URL pushed) although the link that asked for it was redrawn meanwhile."""
    run = ingest.post("/api/ingest/run", {"agent_name": "live-agent"}, format="json").json()
    for name in ("think", "search", "read", "answer"):
        step = {"step_type": "llm_call", "name": name, "input": {"about": name}}
        assert ingest.post(f"/api/ingest/run/{run['id']}/step", step, format="json").status_code == 201
    sign_in(page, live_server, client, alice)
    page.goto(f"/runs/{run['id']}?step=0")
    assert page.locator(".tl-poll").is_visible()  # the run is live: its timeline, header and step poll

    held, released = [], []  # step loads wait here until released, so the polls land first
    page.route(
        re.compile(rf"/runs/{run['id']}/inspector\?step=\d+$"),
        lambda route: route.continue_() if released else held.append(route),
    )
    page.evaluate(
        """window.redrawn = 0; document.addEventListener("htmx:afterSettle", (event) => {
             if (event.target.id === "step-1") requestAnimationFrame(() => requestAnimationFrame(() => window.redrawn++));
           })"""
    )
    page.keyboard.press("j")
    page.wait_for_function("window.redrawn > 0", timeout=20_000)  # the rows were redrawn, and the redraw ran
    assert page.locator("#inspector").get_attribute("data-step") == "0"  # step 1 is still on its way
    assert "is-selected" in page.locator("#step-1").get_attribute("class")
    assert "is-selected" not in page.locator("#step-0").get_attribute("class")

    page.keyboard.press("j")
    page.wait_for_function("document.querySelector('#step-2').classList.contains('is-selected')")
    page.evaluate("window.redrawn = 0")
    page.wait_for_function("window.redrawn > 0", timeout=20_000)  # the link that asked for step 2 is gone
    released.append(True)
    for route in held:
        with contextlib.suppress(Exception):  # the load the second j replaced was aborted by the page
            route.continue_()
    shown(page, 2)
    assert inspector_title(page) == "read"
    assert page.locator("[id=inspector]").count() == 1
    assert "is-selected" in page.locator("#step-2").get_attribute("class")
