"""The migration that keys tools by server (mcp 0003), run on data merged the old way: one row per
tool name, calls through two servers counted on it."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from apps.mcp.models import McpLog, McpTool
from apps.runs.models import Run, RunStep

BEFORE = [("mcp", "0002_versions_schema_checks")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_it_splits_the_calls_the_steps_place_and_says_what_it_could_not(project, capsys):
    old = migrate(BEFORE)
    OldTool, OldLog = old.get_model("mcp", "McpTool"), old.get_model("mcp", "McpLog")
    # `add` offered by two servers: registered last by "proxied", so the one row says "proxied".
    add = OldTool.objects.create(project_id=project.pk, tool_name="add", server_name="proxied", version=1)
    search = OldTool.objects.create(project_id=project.pk, tool_name="search", server_name="docs", version=1)
    run = Run.objects.create(project=project, agent_name="mcp-agent")
    instrumented = []
    for n in range(20):  # through `instrument`, inside a run: each call a step naming its server
        log = OldLog.objects.create(project_id=project.pk, tool=add, log_type="response", request={"a": n})
        RunStep.objects.create(
            run=run, step_index=n, step_type="tool_call", name="add",
            metadata={"mcp_log_id": str(log.pk), "mcp_server": "calc"},
        )  # fmt: skip
        instrumented.append(log.pk)
    proxied = [
        OldLog.objects.create(project_id=project.pk, tool=add, log_type="response", jsonrpc_id=n).pk for n in range(5)
    ]
    docs = [OldLog.objects.create(project_id=project.pk, tool=search, log_type="response").pk for _ in range(3)]

    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())  # 0003 and all after it, as migrate does

    calc = McpTool.objects.get(project=project, server_name="calc", tool_name="add")
    assert set(calc.logs.values_list("pk", flat=True)) == set(instrumented)
    assert set(McpLog.objects.filter(pk__in=instrumented).values_list("server_name", flat=True)) == {"calc"}
    # The proxy's calls name no step: nothing says which server they went to. They stay where they
    # were, their server "not recorded", and the migration says so.
    left = McpLog.objects.filter(pk__in=proxied)
    assert {(log.tool.server_name, log.server_name) for log in left} == {("proxied", None)}
    # A tool only one server offered had nothing to split: its calls keep that server.
    assert set(McpLog.objects.filter(pk__in=docs).values_list("server_name", flat=True)) == {"docs"}
    said = capsys.readouterr().out
    assert "add: 20 call(s) moved to server 'calc'" in said
    assert "add: 5 call(s) NOT split, their server not recorded; left on server 'proxied'" in said
    assert "search" not in said
