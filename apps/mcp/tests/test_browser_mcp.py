"""A real MCP client talks to the real test server through `agentscope mcp-proxy`, which records into
the live server; then a person opens /mcp in Chromium and follows the failing call."""

import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import anyio
import pytest
from django.conf import settings

from apps.mcp.models import McpLog, McpTool

mcp = pytest.importorskip("mcp")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SERVER = Path(settings.BASE_DIR) / "sdk" / "tests" / "mcp_server.py"
FAILURE = "Error executing tool fail: the search index is down"


def record_calls_through_the_proxy(live_server, api_key) -> list[str]:
    """Lists the tools and calls add, slow and fail with the official client, through the proxy."""
    command = [
        sys.executable, "-m", "agentscope_sdk.cli", "mcp-proxy", "--server-name", "calc",
        "--base-url", live_server.url, "--api-key", api_key, "--", sys.executable, str(SERVER),
    ]  # fmt: skip

    async def client():
        params = mcp.StdioServerParameters(command=command[0], args=command[1:])
        with open(os.devnull, "w") as quiet:
            async with (
                mcp.stdio_client(params, errlog=quiet) as (read, write),
                mcp.ClientSession(read, write) as session,
            ):
                await session.initialize()
                tools = await session.list_tools()
                await session.call_tool("add", {"a": 2, "b": 40})
                await session.call_tool("slow", {"seconds": 0.2})
                failed = await session.call_tool("fail", {})
                assert getattr(failed, "is_error", None) or getattr(failed, "isError", None)  # mcp 2 or 1
        return [tool.name for tool in tools.tools]

    # Playwright's sync API keeps an event loop running in this thread: the client gets its own.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(anyio.run, client).result()


def wait_for(condition, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while not (value := condition()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return value


def sign_in(page, live_server, client, user) -> None:
    client.force_login(user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )


def test_see_the_tools_a_schema_and_the_failing_call_in_logs_and_stats(page, live_server, client, alice, api_key):
    # 1. The proxy records a real client's session with the test server.
    assert record_calls_through_the_proxy(live_server, api_key[1]) == ["add", "slow", "fail", "denied", "crash"]
    assert wait_for(lambda: McpLog.objects.count() == 3 and McpTool.objects.filter(version=1).count() == 5)

    # 2. Open /mcp; 3. the server's tools are there.
    sign_in(page, live_server, client, alice)
    page.goto("/mcp")
    cards = page.locator(".mcp-tool")
    assert sorted(cards.locator(".mcp-tool-name").all_inner_texts()) == ["add", "crash", "denied", "fail", "slow"]
    add = page.locator('[data-tool="add"]')
    assert "Add two integers." in add.inner_text() and "calc" in add.inner_text() and "1 call" in add.inner_text()
    assert "1 call" in page.locator('[data-tool="fail"]').inner_text()

    # 4. Open a tool's schema: a table of parameters and the JSON Schema.
    add.click()
    dialog = page.locator("#mcp-tool-dialog")
    dialog.wait_for(state="visible")
    rows = dialog.locator(".mcp-params tbody tr")
    assert [row.inner_text().split() for row in rows.all()] == [
        ["a", "integer", "required"],
        ["b", "integer", "required"],
    ]
    assert '"required"' in dialog.locator(".json-tree").first.inner_text()
    assert "Version 1" in dialog.locator(".mcp-versions").inner_text()
    page.keyboard.press("Escape")
    dialog.wait_for(state="detached")

    # 5. Find the failing call in Logs, filtering by type.
    page.get_by_role("link", name="Logs").click()
    page.wait_for_url("**/mcp?tab=logs")
    assert page.locator(".mcp-logs tbody tr").count() == 3
    page.get_by_label("Type").select_option("error")
    page.wait_for_url("**log_type=error**")
    assert page.locator(".mcp-logs tbody tr").count() == 1
    row = page.locator(".mcp-logs tbody tr")
    assert "fail" in row.inner_text() and "Error" in row.inner_text()

    # 6. Read its error, in red, next to the request.
    row.click()
    log = page.locator("#mcp-log-dialog")
    log.wait_for(state="visible")
    assert log.locator("[data-error-message]").inner_text() == FAILURE
    assert log.locator(".callout-error").is_visible()
    assert '"name": "fail"' in log.locator(".json").first.inner_text()
    page.keyboard.press("Escape")
    log.wait_for(state="detached")

    # 7. See it in Stats: three calls, one error, all of them fail's.
    page.get_by_role("link", name="Stats").click()
    page.wait_for_url("**/mcp?tab=stats")
    stats = page.locator(".mcp-stats").inner_text()
    assert "3" in stats and "33.3%" in stats
    error_rate = page.locator('[data-chart="error-rate"] .hbar-row title').all_text_contents()
    assert "fail: error rate 100%" in error_rate
    assert "add: error rate 0%" in error_rate
    page.get_by_role("link", name="24h").click()
    page.wait_for_url("**period=24h")
    assert "fail: calls 1" in page.locator('[data-chart="most-used"] .hbar-row title').all_text_contents()

    # 8. New content is live the moment htmx swaps it in: a change made in that same moment is heard
    #    (with htmx's default settle delay, new content stayed inert for 20 ms and the change was lost).
    page.evaluate(
        """new MutationObserver((_, observer) => {
             const type = document.querySelector('#mcp-body select[name="log_type"]');
             if (!type) return;
             observer.disconnect();
             type.value = 'error';
             type.dispatchEvent(new Event('change', {bubbles: true}));
           }).observe(document.body, {childList: true, subtree: true})"""
    )
    page.get_by_role("link", name="Logs").click()
    page.wait_for_url("**log_type=error**")
    page.wait_for_function("document.querySelectorAll('.mcp-logs tbody tr').length === 1")
