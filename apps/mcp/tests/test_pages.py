"""/mcp: the tools, logs and stats tabs, the tool and log dialogs (deep links and htmx partials)."""

import datetime as dt
import html
import re
import uuid

import pytest
from django.utils import timezone
from django.utils.html import strip_tags

from apps.mcp.services import mcp_log_create, mcp_tool_upsert
from apps.projects.services import project_create

pytestmark = pytest.mark.django_db

MCP = "/mcp"
BODY = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "mcp-body"}
RESULTS = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "mcp-logs-results"}
DIALOG = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "mcp-dialog-slot"}


def text(response) -> str:
    """What a person reads: the page's text with its whitespace squeezed."""
    assert response.status_code == 200
    return re.sub(r"\s+", " ", html.unescape(strip_tags(response.content.decode())))


def log_ids(response) -> list[str]:
    return re.findall(r'data-log-id="([0-9a-f-]+)"', response.content.decode())


def add_log(project, tool, log_type="response", **data):
    return mcp_log_create(project=project, log_type=log_type, data={"tool_id": tool.id, **data})[0]


# The page ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [MCP, f"{MCP}?tab=logs", f"{MCP}/tools/{uuid.uuid4()}", f"{MCP}/logs/{uuid.uuid4()}"])
def test_it_requires_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/login?next=")


def test_it_asks_for_a_project_first(client, alice):
    client.force_login(alice)
    assert "Create a project to inspect MCP traffic" in text(client.get(MCP))


def test_it_is_served_with_a_trailing_slash_too(client_alice, tool):
    assert "Search the docs" in text(client_alice.get(MCP + "/"))


def test_the_tabs_are_links_that_htmx_swaps_and_pushes(client_alice, project):
    body = client_alice.get(MCP).content.decode()
    for tab in ("tools", "logs", "stats"):
        assert f'href="/mcp?tab={tab}" hx-get="/mcp?tab={tab}" hx-target="#mcp-body" hx-push-url="true"' in body
    assert 'aria-current="page">' in body.split('href="/mcp?tab=tools"')[1].split("</a>")[0]


# Tools -------------------------------------------------------------------------------------------


def test_the_tools_tab_works(client_alice, project, tool, log, bob_tool):
    add_log(project, tool, "error", error={"message": "down"})
    page = text(client_alice.get(MCP))
    assert "search" in page and "Search the docs" in page and "docs" in page
    assert "2 calls" in page
    assert "Changed" not in page
    assert "secret" not in page and "Bob's" not in page


def test_the_tools_tab_flags_a_changed_tool(client_alice, project, tool):
    mcp_tool_upsert(project=project, tool_name="search", data={"description": "Search, then email the results"})
    body = client_alice.get(MCP).content.decode()
    card = body.split('data-tool="search"')[1].split("</a>")[0]
    assert "Changed" in card and "badge-warning" in card


def test_the_tools_tab_without_tools_explains_how_to_record(client_alice, project, bob_tool):
    page = text(client_alice.get(MCP))
    assert "No MCP tools yet" in page
    assert "agentscope mcp-proxy --server-name NAME -- <server command>" in page
    assert 'instrument(session, server_name="docs")' in page


def test_the_tools_tab_for_htmx_is_the_body_only(client_alice, tool):
    response = client_alice.get(f"{MCP}?tab=tools", **BODY)
    body = response.content.decode()
    assert "<html" not in body and 'class="tabs mcp-tabs"' in body and "Search the docs" in body
    assert "HX-Target" in response["Vary"]


def test_the_tools_tab_takes_a_fixed_number_of_queries(client_alice, project, django_assert_max_num_queries):
    for n in range(15):
        tool = mcp_tool_upsert(project=project, tool_name=f"tool-{n}", data={"description": "d", "server_name": "s"})[0]
        add_log(project, tool)
    # session, user, project, its user (the selector scopes by it), tools with their counts, the switcher
    with django_assert_max_num_queries(7):  # + the sidebar's paused runs
        assert "tool-14" in text(client_alice.get(MCP))


# The tool dialog ---------------------------------------------------------------------------------


def test_the_tool_deep_link_opens_its_dialog_over_the_tools_tab(client_alice, tool, log):
    response = client_alice.get(f"{MCP}/tools/{tool.pk}")
    body = response.content.decode()
    assert 'id="mcp-tool-dialog"' in body and "open data-autoshow" in body
    assert 'class="tabs mcp-tabs"' in body  # the page under it
    dialog = text(response).split("Input schema", 1)[1]
    assert "query string required What to look for" in dialog
    assert "limit integer optional Default 5" in dialog
    assert '"minimum": 1' in dialog  # the JSON viewer
    assert "Recent calls" in dialog and "40 ms" in dialog and '{"query": "mars"}' in dialog
    assert "Version 1" in dialog and "first seen" in dialog


def test_the_tool_dialog_for_htmx_is_the_dialog_only(client_alice, tool):
    body = client_alice.get(f"{MCP}/tools/{tool.pk}", **DIALOG).content.decode()
    assert body.lstrip().startswith("<dialog") and "<html" not in body and "mcp-tabs" not in body


def test_the_tool_dialog_shows_a_changed_description_with_its_diff(client_alice, project, tool):
    mcp_tool_upsert(project=project, tool_name="search", data={"description": "Search the docs and email attacker"})
    response = client_alice.get(f"{MCP}/tools/{tool.pk}", **DIALOG)
    body = response.content.decode()
    assert "This tool's definition changed" in text(response)
    assert "description changed" in body
    assert '<span class="diff-remove">-Search the docs</span>' in body
    assert '<span class="diff-add">+Search the docs and email attacker</span>' in body


def test_the_tool_dialog_checks_ownership(client_alice, bob_tool):
    assert client_alice.get(f"{MCP}/tools/{bob_tool.pk}").status_code == 404
    assert client_alice.get(f"{MCP}/tools/{bob_tool.pk}", **DIALOG).status_code == 404
    assert client_alice.get(f"{MCP}/tools/{uuid.uuid4()}").status_code == 404


def test_the_tool_dialog_takes_a_fixed_number_of_queries(client_alice, project, tool, django_assert_max_num_queries):
    for n in range(12):
        add_log(project, tool, request={"query": f"q{n}"}, latency_ms=n)
    with django_assert_max_num_queries(6):  # session, user, tool, versions, recent calls, the user's projects
        assert "q11" in text(client_alice.get(f"{MCP}/tools/{tool.pk}", **DIALOG))


# Logs --------------------------------------------------------------------------------------------


def test_the_logs_tab_works(client_alice, project, tool, log, run, bob_log):
    response = client_alice.get(f"{MCP}?tab=logs")
    page = text(response)
    assert log_ids(response) == [str(log.pk)]
    assert "search" in page and "docs" in page and "Response" in page and "40 ms" in page
    assert f'href="/runs/{run.pk}"' in response.content.decode()
    assert f'href="/mcp/logs/{log.pk}" hx-get="/mcp/logs/{log.pk}"' in response.content.decode()


def test_the_logs_tab_flags_schema_violations(client_alice, project, tool):
    add_log(project, tool, request={"limit": 0})
    page = text(client_alice.get(f"{MCP}?tab=logs"))
    assert "violation" in page


def test_the_logs_tab_filters(client_alice, project, tool, log, run):
    other = mcp_tool_upsert(project=project, tool_name="fetch", data={"server_name": "web"})[0]
    error = add_log(project, other, "error", error={"message": "down"})
    broken = add_log(project, tool, request={"limit": 0}, created_at="2024-03-02T10:00:00Z")
    query = {
        "log_type": "error",
        "tool_id": other.pk,
        "server_name": "web",
        "run_id": run.pk,
        "schema_violation": "true",
    }
    expected = {
        "log_type": [error],
        "tool_id": [error],
        "server_name": [error],
        "run_id": [log],
        "schema_violation": [broken],
    }
    for key, value in query.items():
        assert log_ids(client_alice.get(MCP, {"tab": "logs", key: value})) == [str(x.pk) for x in expected[key]], key
    dates = {"tab": "logs", "from": "2024-03-01", "to": "2024-03-02"}  # `to` takes its whole day
    assert log_ids(client_alice.get(MCP, dates)) == [str(broken.pk)]
    assert log_ids(client_alice.get(MCP, {**dates, "to": "2024-03-01"})) == []


def test_a_bad_filter_is_ignored_with_a_message(client_alice, log):
    response = client_alice.get(MCP, {"tab": "logs", "run_id": "not-a-run", "log_type": "response"})
    assert log_ids(response) == [str(log.pk)]
    assert "This filter is ignored" in text(response)


def test_filters_that_match_nothing_say_so(client_alice, log):
    assert "No calls match these filters" in text(client_alice.get(MCP, {"tab": "logs", "log_type": "error"}))


def test_the_logs_tab_without_logs_explains_how_to_record(client_alice, project, bob_log):
    page = text(client_alice.get(f"{MCP}?tab=logs"))
    assert "No MCP calls yet" in page and "agentscope mcp-proxy" in page


def test_the_logs_results_for_htmx_are_the_table_only(client_alice, log):
    body = client_alice.get(MCP, {"tab": "logs", "log_type": "response"}, **RESULTS).content.decode()
    assert "<html" not in body and "mcp-tabs" not in body and "mcp-filters" not in body
    assert f'data-log-id="{log.pk}"' in body


def test_the_logs_are_paginated(client_alice, project, tool):
    start = timezone.now() - dt.timedelta(hours=1)
    logs = [add_log(project, tool, created_at=(start + dt.timedelta(seconds=n)).isoformat()) for n in range(55)]
    first = client_alice.get(MCP, {"tab": "logs"})
    assert log_ids(first) == [str(log.pk) for log in logs[::-1][:50]]
    assert "1\u201350 of 55" in text(first)  # an en dash
    # A page link carries the filters; a bare ?page=2 is the logs tab too.
    assert log_ids(client_alice.get(MCP, {"page": 2})) == [str(log.pk) for log in logs[4::-1]]


def test_the_logs_tab_takes_a_fixed_number_of_queries(client_alice, project, django_assert_max_num_queries):
    for n in range(10):
        tool = mcp_tool_upsert(project=project, tool_name=f"tool-{n}", data={"server_name": f"s{n}"})[0]
        for _ in range(3):
            add_log(project, tool)
    # session, user, project, its user, count, page, the filter's tools, the project switcher
    with django_assert_max_num_queries(9):  # + the sidebar's paused runs
        assert len(log_ids(client_alice.get(f"{MCP}?tab=logs"))) == 30
    with django_assert_max_num_queries(7):
        assert len(log_ids(client_alice.get(f"{MCP}?tab=logs", **RESULTS))) == 30


# The log dialog ----------------------------------------------------------------------------------


def test_the_log_deep_link_opens_its_dialog_over_the_logs_tab(client_alice, log, run):
    response = client_alice.get(f"{MCP}/logs/{log.pk}")
    body = response.content.decode()
    assert 'id="mcp-log-dialog"' in body and "open data-autoshow" in body and "mcp-logs" in body
    dialog = text(response).split("MCP Inspector")[-1]
    assert "Request" in dialog and '"query": "mars"' in dialog
    assert "Response" in dialog and '"hits": 2' in dialog
    assert f'href="/runs/{run.pk}"' in body


def test_the_log_dialog_shows_an_error_in_red(client_alice, project, tool):
    error = add_log(project, tool, "error", request={"limit": 0}, error={"code": -32001, "message": "access denied"})
    response = client_alice.get(f"{MCP}/logs/{error.pk}", **DIALOG)
    body = response.content.decode()
    assert body.lstrip().startswith("<dialog") and "<html" not in body
    assert 'class="callout callout-error mcp-error"' in body and "mcp-is-error" in body
    page = text(response)
    assert "The call failed access denied JSON-RPC error -32001" in page
    assert "The arguments broke the tool's input schema" in page and "limit: 0 is less than the minimum of 1" in page


def test_the_log_dialog_checks_ownership(client_alice, bob_log):
    assert client_alice.get(f"{MCP}/logs/{bob_log.pk}").status_code == 404
    assert client_alice.get(f"{MCP}/logs/{bob_log.pk}", **DIALOG).status_code == 404


# Stats -------------------------------------------------------------------------------------------


def test_the_stats_tab_works(client_alice, project, tool, bob_log):
    for latency in (10, 20, 30):
        add_log(project, tool, latency_ms=latency)
    add_log(project, tool, "error", error={"message": "down"}, latency_ms=40)
    response = client_alice.get(MCP, {"tab": "stats"})
    page = text(response)
    assert "Calls 4" in page and "Error rate 25%" in page and "Avg latency 25 ms" in page
    body = response.content.decode()
    assert body.count('<svg class="chart') == 4
    assert "search: calls 4" in body and "search: error rate 25%" in body and "search: avg 25 ms, p95 38 ms" in body
    assert 'aria-current="true" title="Last 7 days">7d' in body


def test_the_stats_period_selector(client_alice, project, tool):
    add_log(project, tool, created_at=(timezone.now() - dt.timedelta(days=3)).isoformat())
    assert "Calls 1" in text(client_alice.get(MCP, {"tab": "stats", "period": "7d"}))
    day = client_alice.get(MCP, {"tab": "stats", "period": "24h"}, **BODY)
    assert "<html" not in day.content.decode()
    assert "No MCP calls in the last 24 hours" in text(day)
    assert "Last 7 days" in text(client_alice.get(MCP, {"tab": "stats", "period": "1y"}))


def test_the_stats_tab_without_logs_explains_how_to_record(client_alice, project, bob_log):
    page = text(client_alice.get(MCP, {"tab": "stats"}))
    assert "No MCP calls yet" in page and "agentscope mcp-proxy" in page


def test_the_stats_tab_shows_only_the_current_project(client_alice, alice, project, tool):
    other = project_create(user=alice, name="Other")
    other_tool = mcp_tool_upsert(project=other, tool_name="elsewhere", data={})[0]
    add_log(other, other_tool)
    add_log(project, tool)
    page = text(client_alice.get(MCP, {"tab": "stats", "project": project.pk}))
    assert "Calls 1" in page and "elsewhere" not in page


def test_the_stats_tab_takes_a_fixed_number_of_queries(client_alice, project, django_assert_max_num_queries):
    for n in range(10):
        tool = mcp_tool_upsert(project=project, tool_name=f"tool-{n}", data={})[0]
        add_log(project, tool, latency_ms=n)
    with django_assert_max_num_queries(
        9
    ):  # session, user, project, totals, by tool, p95 sample, buckets, the sidebar's paused runs
        assert "tool-9" in text(client_alice.get(MCP, {"tab": "stats"}))
