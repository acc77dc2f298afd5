"""Writes to MCP tools (upserted per project by name, their definitions versioned) and MCP logs
(one row per call, its arguments checked against the tool's input schema as it is logged).

`mcp_tool_apply` and `mcp_log_build` change objects in memory only: the single endpoints save them
one by one, `mcp_write` (a batch's MCP events) in bulk, and both follow the same rules.
"""

import functools
import json
from datetime import datetime
from uuid import UUID

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from jsonschema import Draft202012Validator, SchemaError, validators

from apps.core.errors import ApplicationError
from apps.mcp.models import DEFINITION_FIELDS, McpLog, McpTool, McpToolVersion
from apps.projects.models import Project
from apps.runs.models import Run

TOOL_FIELDS = ("server_name", *DEFINITION_FIELDS)
LOG_FIELDS = ("request", "response", "error", "latency_ms", "jsonrpc_id", "created_at")
MAX_SCHEMA_ERRORS = 20
MAX_MESSAGE_CHARS = 500


# Rules, in memory --------------------------------------------------------------------------------


def mcp_tool_apply(*, tool: McpTool, data: dict, now: datetime) -> McpToolVersion | None:
    """Sets the fields `data` gives on `tool` (the others are kept); when that makes a new
    definition, bumps the version and returns the `McpToolVersion` to save with the tool."""
    before = tool.definition()
    for field in TOOL_FIELDS:
        if field in data:
            setattr(tool, field, data[field])
    after = tool.definition()
    if (tool.version and after == before) or (not tool.version and not tool.has_definition):
        return None
    tool.version += 1
    if tool.version > 1:
        tool.changed_at = now
    return McpToolVersion(tool=tool, version=tool.version, created_at=now, **after)


def call_arguments(*, tool_name: str, request):
    """The arguments of a logged call: the `arguments` of a request shaped as the JSON-RPC params
    of `tools/call` (`{"name": tool_name, "arguments": {...}}`), else the request itself."""
    if (
        isinstance(request, dict)
        and request.get("name") == tool_name
        and set(request) <= {"name", "arguments", "_meta"}
    ):
        return request.get("arguments") or {}
    return request


def schema_errors_for(*, schema, arguments) -> list[dict] | None:
    """How `arguments` break `schema` (JSON Schema, 2020-12 unless it says otherwise), or None
    when they match or the schema can't be used."""
    if not isinstance(schema, dict) or arguments is None:
        return None
    validator = _validator(json.dumps(schema, sort_keys=True))
    if validator is None:
        return None
    errors = []
    for error in validator.iter_errors(arguments):
        path = ".".join(str(part) for part in error.absolute_path)
        errors.append({"path": path, "message": error.message[:MAX_MESSAGE_CHARS], "validator": error.validator})
        if len(errors) == MAX_SCHEMA_ERRORS:
            break
    return sorted(errors, key=lambda e: e["path"]) or None


@functools.lru_cache(maxsize=256)
def _validator(schema_text: str):
    # Keyed by the schema's text: a batch of calls to one tool compiles its schema once.
    schema = json.loads(schema_text)
    cls = validators.validator_for(schema, default=Draft202012Validator)
    try:
        cls.check_schema(schema)
    except SchemaError:
        return None
    return cls(schema)


def mcp_log_build(*, project: Project, tool: McpTool | None, data: dict) -> McpLog:
    fields = {key: data[key] for key in LOG_FIELDS if key in data}
    if fields.get("created_at") is None:
        fields.pop("created_at", None)  # now, by the model's default
    log = McpLog(project=project, tool=tool, run_id=data.get("run_id"), log_type=data["log_type"], **fields)
    if data.get("id"):
        log.id = data["id"]
    if tool is not None:
        arguments = call_arguments(tool_name=tool.tool_name, request=log.request)
        log.schema_errors = schema_errors_for(schema=tool.input_schema, arguments=arguments)
    return log


def log_id_taken() -> ApplicationError:
    return ApplicationError(
        "This log id is already taken.", errors={"id": ["Already taken: choose another id."]}, status=409
    )


# Writes ------------------------------------------------------------------------------------------


@transaction.atomic
def mcp_tool_upsert(*, project: Project, tool_name: str, data: dict) -> tuple[McpTool, bool]:
    """The tool named `tool_name` with the fields in `data` set, and whether it was created.
    Its row is locked when it changes, so two registrations can't both write the next version."""
    now = timezone.now()
    fields = [field for field in TOOL_FIELDS if field in data]
    tools = McpTool.objects.select_for_update() if fields else McpTool.objects
    tool = tools.filter(project=project, tool_name=tool_name).first()
    if tool is None:
        try:
            with transaction.atomic():
                tool = McpTool(project=project, tool_name=tool_name)
                version = mcp_tool_apply(tool=tool, data=data, now=now)
                tool.save(force_insert=True)
                if version is not None:
                    version.save(force_insert=True)
                return tool, True
        except IntegrityError:  # registered concurrently: update that one instead
            tool = tools.get(project=project, tool_name=tool_name)
    if fields:
        version = mcp_tool_apply(tool=tool, data=data, now=now)
        tool.save(update_fields=[*fields, "version", "changed_at", "updated_at"])
        if version is not None:
            version.save(force_insert=True)
    return tool, False


def mcp_tool_for_log(*, project: Project, tool_id: UUID | None = None, tool_name: str | None = None) -> McpTool | None:
    """The tool a log names: by id (404 unless in `project`), else by name (created when new)."""
    if tool_id:
        tool = McpTool.objects.filter(project=project, pk=tool_id).first()
        if tool is None:
            raise Http404
        return tool
    if tool_name:
        return mcp_tool_upsert(project=project, tool_name=tool_name, data={})[0]
    return None


@transaction.atomic
def mcp_log_create(*, project: Project, log_type: str, data: dict) -> tuple[McpLog, bool]:
    """Logs one MCP call, and whether it is new: a retry with the same `id` answers the stored log.
    `data` may name a tool (`tool_id` or `tool_name`) and a run (`run_id`)."""
    if data.get("id"):
        existing = McpLog.objects.filter(pk=data["id"]).first()
        if existing is not None:
            if existing.project_id != project.pk:
                raise log_id_taken()
            return existing, False
    run_id = data.get("run_id")
    if run_id and not Run.objects.filter(project=project, pk=run_id).exists():
        raise Http404
    tool = mcp_tool_for_log(project=project, tool_id=data.get("tool_id"), tool_name=data.get("tool_name"))
    log = mcp_log_build(project=project, tool=tool, data={**data, "log_type": log_type})
    log.save(force_insert=True)
    return log, True


# Many at once (a batch) ------------------------------------------------------------------------------


def mcp_write(*, project: Project, events: list[tuple[str, dict]]) -> list[tuple[int, UUID | ApplicationError]]:
    """(status, id) or (status, error) for each `mcp.tool` / `mcp.log` event, in order, by the rules of
    the single endpoints, in a few queries: the tools and logs named are read at once (tools locked,
    in id order, so two batches can't both write a tool's next version), the rest written in bulk.
    A tool or log created concurrently makes the batch start over, then seeing it."""
    if not events:
        return []
    for attempt in range(3):
        try:
            with transaction.atomic():
                return _McpBatch(project=project).write(events)
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


class _McpBatch:
    def __init__(self, *, project: Project):
        self.project, self.now = project, timezone.now()
        self.tools: dict[str, McpTool] = {}
        self.tools_by_id: dict[UUID, McpTool] = {}
        self.new_tools: list[McpTool] = []
        self.changed_tools: dict[UUID, McpTool] = {}
        self.changed_fields: set[str] = set()
        self.versions: list[McpToolVersion] = []
        self.logs: list[McpLog] = []
        self.stored_logs: dict[UUID, UUID] = {}  # log id -> project id, for the logs named
        self.run_ids: set[UUID] = set()  # this project's runs the logs name

    def write(self, events: list[tuple[str, dict]]) -> list[tuple[int, UUID | ApplicationError]]:
        self.load(events)
        results = []
        for kind, data in events:
            try:
                results.append(self.tool_event(data) if kind == "mcp.tool" else self.log_event(data))
            except ApplicationError as exc:
                results.append((exc.status, exc))
            except Http404:
                results.append((404, ApplicationError("Not found.", status=404)))
        self.save()
        return results

    def load(self, events: list[tuple[str, dict]]) -> None:
        names = {data.get("tool_name") for _, data in events} - {None}
        tool_ids = {data.get("tool_id") for _, data in events} - {None}
        if names or tool_ids:
            tools = McpTool.objects.select_for_update().filter(project=self.project)
            for tool in tools.filter(Q(tool_name__in=names) | Q(pk__in=tool_ids)).order_by("pk"):
                self.tools[tool.tool_name] = self.tools_by_id[tool.pk] = tool
        log_ids = {data.get("id") for kind, data in events if kind == "mcp.log"} - {None}
        if log_ids:
            self.stored_logs = dict(McpLog.objects.filter(pk__in=log_ids).values_list("pk", "project_id"))
        run_ids = {data.get("run_id") for _, data in events} - {None}
        if run_ids:
            self.run_ids = set(Run.objects.filter(project=self.project, pk__in=run_ids).values_list("pk", flat=True))

    def tool_event(self, data: dict) -> tuple[int, UUID]:
        tool, created = self.tool(data["tool_name"])
        version = mcp_tool_apply(tool=tool, data=data, now=self.now)
        if version is not None:
            self.versions.append(version)
        if not created and tool not in self.new_tools:
            tool.updated_at = self.now
            self.changed_tools[tool.pk] = tool
            self.changed_fields.update(key for key in TOOL_FIELDS if key in data)
        return (201 if created else 200), tool.pk

    def log_event(self, data: dict) -> tuple[int, UUID]:
        log_id = data.get("id")
        if log_id in self.stored_logs:
            if self.stored_logs[log_id] != self.project.pk:
                raise log_id_taken()
            return 200, log_id
        if data.get("tool_id") and data["tool_id"] not in self.tools_by_id:
            raise Http404
        if data.get("run_id") and data["run_id"] not in self.run_ids:
            raise Http404
        tool = self.tools_by_id.get(data.get("tool_id"))
        if tool is None and data.get("tool_name"):
            tool = self.tool(data["tool_name"])[0]
        log = mcp_log_build(project=self.project, tool=tool, data=data)
        self.logs.append(log)
        self.stored_logs[log.pk] = self.project.pk  # the same id again in this batch is a retry
        return 201, log.pk

    def tool(self, tool_name: str) -> tuple[McpTool, bool]:
        tool = self.tools.get(tool_name)
        if tool is not None:
            return tool, False
        tool = McpTool(project=self.project, tool_name=tool_name)
        self.tools[tool_name] = self.tools_by_id[tool.pk] = tool
        self.new_tools.append(tool)
        return tool, True

    def save(self) -> None:
        McpTool.objects.bulk_create(self.new_tools)
        McpToolVersion.objects.bulk_create(self.versions)
        McpLog.objects.bulk_create(self.logs)
        if self.changed_tools:
            fields = [*self.changed_fields, "version", "changed_at", "updated_at"]
            McpTool.objects.bulk_update(self.changed_tools.values(), fields)
