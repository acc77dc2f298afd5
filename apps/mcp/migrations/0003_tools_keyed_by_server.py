"""MCP tools are keyed by (project, server_name, tool_name), and each log keeps its own server.

Before this, a project had one tool per name: calls through two servers offering `add` were all
counted on one row, whose server was whichever registered last. This splits those rows where the
logs allow it: a call recorded inside a run is a step whose metadata names its server (`mcp_server`,
with `mcp_log_id`); such calls move to their server's tool. Calls nothing places stay on the row
they were on with `server_name` null ("not recorded"): the migration prints how many, per tool, and
the admin's MCP logs list filters them (server: not recorded).
"""

from django.db import migrations, models

CHUNK = 1000


def split_merged_tools(apps, schema_editor):
    McpTool, McpLog = apps.get_model("mcp", "McpTool"), apps.get_model("mcp", "McpLog")
    notes = []
    for tool in McpTool.objects.order_by("project_id", "tool_name").iterator():
        log_ids = [str(pk) for pk in McpLog.objects.filter(tool=tool).values_list("pk", flat=True)]
        if not log_ids:
            continue
        named = _servers_named_by_steps(apps, tool.project_id, log_ids)
        others = sorted({server for server in named.values() if server != tool.server_name})
        if not others:  # one server only: nothing was merged
            McpLog.objects.filter(tool=tool).update(server_name=tool.server_name or None)
            continue
        for server in others:
            target, _ = McpTool.objects.get_or_create(
                project_id=tool.project_id, server_name=server, tool_name=tool.tool_name
            )
            moved = [log_id for log_id, name in named.items() if name == server]
            _in_chunks(McpLog.objects.filter(tool=tool), moved, tool=target, server_name=server)
            notes.append(f"  {tool.tool_name}: {len(moved)} call(s) moved to server {server!r}")
        own = [log_id for log_id, name in named.items() if name == tool.server_name]
        _in_chunks(McpLog.objects.filter(tool=tool), own, server_name=tool.server_name or None)
        left = len(log_ids) - len(named)
        if left:
            notes.append(
                f"  {tool.tool_name}: {left} call(s) NOT split, their server not recorded; left on server "
                f"{tool.server_name!r} with server_name null (project {tool.project_id})"
            )
    if notes:
        print("\n  MCP tools merged across servers, split by the servers their calls' steps name:")
        print("\n".join(notes))


def _servers_named_by_steps(apps, project_id, log_ids: list[str]) -> dict[str, str]:
    """{log id: server} for the calls recorded inside a run, whose step's metadata names the server."""
    RunStep = apps.get_model("runs", "RunStep")
    named = {}
    for start in range(0, len(log_ids), CHUNK):
        chunk = log_ids[start : start + CHUNK]
        steps = RunStep.objects.filter(run__project_id=project_id, metadata__mcp_log_id__in=chunk)
        for metadata in steps.values_list("metadata", flat=True):
            server = metadata.get("mcp_server") if isinstance(metadata, dict) else None
            if isinstance(server, str) and server:
                named[str(metadata["mcp_log_id"])] = server
    return named


def _in_chunks(logs, ids: list[str], **values) -> None:
    for start in range(0, len(ids), CHUNK):
        logs.filter(pk__in=ids[start : start + CHUNK]).update(**values)


class Migration(migrations.Migration):
    dependencies = [
        ("mcp", "0002_versions_schema_checks"),
        ("projects", "0001_initial"),
        ("runs", "0001_initial"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="mcptool",
            options={"ordering": ["tool_name", "server_name"], "verbose_name": "MCP tool"},
        ),
        migrations.RemoveConstraint(
            model_name="mcptool",
            name="mcp_tools_project_tool_uniq",
        ),
        migrations.AddField(
            model_name="mcplog",
            name="server_name",
            field=models.CharField(blank=True, max_length=255, null=True),
        ),
        migrations.AlterField(  # Django fills the null servers with "" as it alters the column
            model_name="mcptool",
            name="server_name",
            field=models.CharField(blank=True, default="", max_length=255),
        ),
        migrations.AddConstraint(
            model_name="mcptool",
            constraint=models.UniqueConstraint(
                fields=("project", "server_name", "tool_name"), name="mcp_tools_project_server_tool_uniq"
            ),
        ),
        migrations.RunPython(split_merged_tools, migrations.RunPython.noop),
    ]
