"""`POST /api/ingest/batch`: many events, a few queries, one answer per event.

Every event is checked on its own first (shape, then rules), so one bad event sinks no other.
Then, in one transaction: the runs the batch names are read and locked in one query (in id
order, so two batches can't deadlock), the steps and tools it names in one query each; the
events are applied in order to objects in memory, by the same rules as the single endpoints
(apps.runs.services, apps.mcp.services); and everything is written with bulk operations: runs,
tools, tool versions, steps (with COPY on PostgreSQL), logs created, then steps, tools and runs
updated, each run's counters once with F() expressions.
A run created earlier in the batch (with a client `id`) can take steps later in it.
"""

from collections import defaultdict
from dataclasses import dataclass
from uuid import UUID

from django.db import IntegrityError, transaction
from django.db.models import F, Max, Q
from django.http import Http404
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from apps.core.bulk import bulk_insert
from apps.core.errors import ApplicationError
from apps.dashboard.services import rollup_invalidate
from apps.ingest.serializers import BATCH_EVENT_INPUTS, IngestBatchEventInput
from apps.ingest.validation import input_checker
from apps.mcp.models import McpLog, McpTool, McpToolVersion
from apps.mcp.services import TOOL_FIELDS, log_id_taken, mcp_log_build, mcp_tool_apply, server_of
from apps.projects.models import Project
from apps.runs.models import Run, RunStep
from apps.runs.services import (
    RUN_WRITE_FIELDS,
    STEP_PATCH_FIELDS,
    run_apply_end,
    run_apply_patch,
    run_build,
    run_id_taken,
    run_live_duration,
    step_apply_patch,
    step_build,
    step_counts_as_error,
    step_id_taken,
    step_index_taken,
    step_parent_unknown,
)
from apps.testing.services import tests_schedule_for_runs

COUNTERS = ("step_count", "error_count", "total_tokens")
WRITE_ATTEMPTS = 3


@dataclass
class Event:
    index: int
    type: str
    data: dict


def batch_ingest(*, project: Project, events: list) -> list[dict]:
    """One result per event, in order: `{"index", "status", "id"}` or `{"index", "status", "error"}`."""
    valid, results = batch_validate(events)
    for attempt in range(WRITE_ATTEMPTS):
        try:
            with transaction.atomic():
                writer = BatchWriter(project=project)
                results.update(writer.write(valid))
                tests_schedule_for_runs(runs=writer.ended_runs)
            break
        except IntegrityError:
            # A concurrent request created a run, step or tool this batch creates too: start over,
            # now seeing it (the event becomes a 200 retry or a 409, as on the single endpoints).
            if attempt == WRITE_ATTEMPTS - 1:
                raise
    return [results[index] for index in range(len(events))]


def batch_validate(events: list) -> tuple[list[Event], dict[int, dict]]:
    envelope = input_checker(IngestBatchEventInput)
    bodies = {kind: input_checker(serializer) for kind, serializer in BATCH_EVENT_INPUTS.items()}
    valid, errors = [], {}
    for index, raw in enumerate(events):
        try:
            event = envelope(raw)
            valid.append(Event(index, event["type"], bodies[event["type"]](event["body"])))
        except ValidationError as exc:
            errors[index] = error_result(index, 400, exc.detail)
    return valid, errors


def error_result(index: int, status: int, errors: dict | list, detail: str | None = None) -> dict:
    if not isinstance(errors, dict):  # a null event: DRF names no field
        errors = {"non_field_errors": errors}
    errors = {key: value if isinstance(value, list) else [value] for key, value in errors.items()}
    if detail is None:
        first = next(iter(errors.items()), None)
        detail = f"{first[0]}: {first[1][0]}" if first else "Invalid input."
    return {"index": index, "status": status, "error": {"detail": detail, "errors": errors}}


class BatchWriter:
    def __init__(self, *, project: Project):
        self.project = project
        self.now = timezone.now()
        self.runs: dict[UUID, Run] = {}  # this project's runs, stored (and locked) or new
        self.runs_by_external: dict[str, Run] = {}
        self.foreign_run_ids: set[UUID] = set()
        self.new_runs: dict[UUID, Run] = {}
        self.changed_runs: dict[UUID, Run] = {}
        self.deltas: dict[UUID, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTERS, 0))
        self.steps: dict[UUID, RunStep] = {}  # stored steps the batch names, and new ones
        self.new_steps: dict[UUID, RunStep] = {}
        self.changed_steps: dict[UUID, RunStep] = {}
        self.highest_index: dict[UUID, int] = {}
        self.next_index: dict[UUID, int] = {}
        self.used_indexes: dict[UUID, set[int]] = defaultdict(set)
        self.taken_indexes: set[tuple[UUID, int]] = set()
        self.tools: dict[tuple[str, str], McpTool] = {}  # by (server, name)
        self.tools_by_id: dict[UUID, McpTool] = {}
        self.new_tools: list[McpTool] = []
        self.changed_tools: dict[UUID, McpTool] = {}
        self.changed_tool_fields: set[str] = set()
        self.new_tool_versions: list[McpToolVersion] = []
        self.new_logs: list[McpLog] = []
        self.stored_log_projects: dict[UUID, UUID] = {}  # log id -> project id, for logs the batch names
        self.new_log_ids: set[UUID] = set()
        self.ended_runs: list[Run] = []  # runs this batch finished: their tests are scheduled

    def write(self, events: list[Event]) -> dict[int, dict]:
        self.load(events)
        results = {}
        for event in events:
            try:
                status, object_id = self.HANDLERS[event.type](self, event.data)
                results[event.index] = {"index": event.index, "status": status, "id": str(object_id)}
            except ApplicationError as exc:
                results[event.index] = error_result(event.index, exc.status, exc.errors, exc.detail)
            except Http404:
                results[event.index] = error_result(event.index, 404, {}, "Not found.")
        self.save()
        return results

    # Reading what the batch names: a handful of queries whatever its size --------------------

    def load(self, events: list[Event]) -> None:
        run_ids, external_ids, step_ids, indexed, tool_names, tool_ids = set(), set(), set(), set(), set(), set()
        log_ids = set()
        for event in events:
            data = event.data
            run_id = data.get("id") if event.type == "run.create" else data.get("run_id")
            run_ids.add(run_id)
            if event.type == "run.create":
                external_ids.add(data.get("external_id"))
            elif event.type in ("step.create", "step.update"):
                step_ids.update((data.get("id"), data.get("parent_id")))
                if data.get("step_index") is not None:
                    indexed.add(data["step_index"])
            elif event.type.startswith("mcp."):
                tool_names.add(data.get("tool_name"))
                tool_ids.add(data.get("tool_id"))
                if event.type == "mcp.log":
                    log_ids.add(data.get("id"))
        self.load_runs(run_ids - {None}, external_ids - {None})
        step_run_ids = {e.data["run_id"] for e in events if e.type == "step.create"} & self.runs.keys()
        self.load_steps(step_ids - {None}, step_run_ids, indexed)
        self.load_tools(tool_names - {None}, tool_ids - {None})
        if log_ids - {None}:
            stored = McpLog.objects.filter(pk__in=log_ids - {None}).values_list("pk", "project_id")
            self.stored_log_projects = dict(stored)

    def load_runs(self, run_ids: set[UUID], external_ids: set[str]) -> None:
        if not run_ids and not external_ids:
            return
        runs = Run.objects.select_for_update().filter(project=self.project)
        for run in runs.filter(Q(pk__in=run_ids) | Q(external_id__in=external_ids)).order_by("pk"):
            self.runs[run.pk] = run
            if run.external_id:
                self.runs_by_external[run.external_id] = run
        if missing := run_ids - self.runs.keys():
            self.foreign_run_ids = set(Run.objects.filter(pk__in=missing).values_list("pk", flat=True))

    def load_steps(self, step_ids: set[UUID], step_run_ids: set[UUID], indexed: set[int]) -> None:
        if step_ids:
            self.steps = {step.pk: step for step in RunStep.objects.filter(pk__in=step_ids)}
        if step_run_ids:
            highest = RunStep.objects.filter(run_id__in=step_run_ids).values("run_id").annotate(top=Max("step_index"))
            self.highest_index = {row["run_id"]: row["top"] for row in highest.order_by()}
        if step_run_ids and indexed:
            taken = RunStep.objects.filter(run_id__in=step_run_ids, step_index__in=indexed)
            self.taken_indexes = set(taken.values_list("run_id", "step_index"))

    def load_tools(self, tool_names: set[str], tool_ids: set[UUID]) -> None:
        if tool_names or tool_ids:
            # Locked (in id order, after the runs) so two batches can't both write a tool's next version.
            tools = (
                McpTool.objects.select_for_update()
                .filter(project=self.project)
                .filter(Q(tool_name__in=tool_names) | Q(pk__in=tool_ids))
            )
            for tool in tools.order_by("pk"):
                self.tools[tool.server_name, tool.tool_name] = self.tools_by_id[tool.pk] = tool

    # Applying events in order, in memory: each checks everything before it changes anything ----

    def run_create(self, data: dict) -> tuple[int, UUID]:
        run_id, external_id = data.get("id"), data.get("external_id")
        if run_id in self.foreign_run_ids:
            raise run_id_taken()
        existing = self.runs.get(run_id) or self.runs_by_external.get(external_id)
        if existing is not None:
            return 200, existing.pk
        run = run_build(project=self.project, **data)
        self.runs[run.pk] = self.new_runs[run.pk] = run
        if run.external_id:
            self.runs_by_external[run.external_id] = run
        return 201, run.pk

    def run_update(self, data: dict) -> tuple[int, UUID]:
        run = self.run(data["run_id"])
        run_apply_patch(run=run, data=data, now=self.now)
        self.changed(run)
        self.note_run_end(run)
        return 200, run.pk

    def run_end(self, data: dict) -> tuple[int, UUID]:
        run = self.run(data["run_id"])
        run_apply_end(run=run, data=data, now=self.now)
        self.changed(run)
        self.note_run_end(run)
        return 200, run.pk

    def note_run_end(self, run: Run) -> None:
        if run.is_finished and run not in self.ended_runs:
            self.ended_runs.append(run)

    def step_create(self, data: dict) -> tuple[int, UUID]:
        run = self.run(data["run_id"])
        known = self.steps.get(data.get("id"))
        if known is not None:
            if known.run_id != run.pk:
                raise step_id_taken()
            return 200, known.pk
        parent = self.steps.get(data.get("parent_id"))
        if data.get("parent_id") and (parent is None or parent.run_id != run.pk):
            raise step_parent_unknown()
        step = step_build(run=run, data=data, step_index=self.step_index(run, data.get("step_index")))
        self.steps[step.pk] = self.new_steps[step.pk] = step
        self.count(run, step_count=1, error_count=int(step_counts_as_error(step)), total_tokens=step.tokens_used or 0)
        self.note_step_end(run, step)
        return 201, step.pk

    def step_update(self, data: dict) -> tuple[int, UUID]:
        run = self.run(data["run_id"])
        step = self.steps.get(data["id"])
        if step is None or step.run_id != run.pk:
            raise Http404
        errors, tokens = step_apply_patch(step=step, data=data, now=self.now)
        if step.pk not in self.new_steps:
            self.changed_steps[step.pk] = step
        self.count(run, error_count=errors, total_tokens=tokens)
        self.note_step_end(run, step)
        return 200, step.pk

    def mcp_tool(self, data: dict) -> tuple[int, UUID]:
        tool, created = self.tool(server_of(data), data["tool_name"])
        version = mcp_tool_apply(tool=tool, data=data, now=self.now)
        if version is not None:
            self.new_tool_versions.append(version)
        if not created and tool not in self.new_tools:
            tool.updated_at = self.now
            self.changed_tools[tool.pk] = tool
            self.changed_tool_fields.update(key for key in TOOL_FIELDS if key in data)
        return (201 if created else 200), tool.pk

    def mcp_log(self, data: dict) -> tuple[int, UUID]:
        log_id = data.get("id")
        if log_id in self.stored_log_projects:
            if self.stored_log_projects[log_id] != self.project.pk:
                raise log_id_taken()
            return 200, log_id
        if log_id in self.new_log_ids:
            return 200, log_id
        if data.get("tool_id") and data["tool_id"] not in self.tools_by_id:
            raise Http404
        if data.get("run_id") and data["run_id"] not in self.runs:
            raise Http404
        tool = self.tools_by_id.get(data.get("tool_id"))
        if tool is None and data.get("tool_name"):
            tool = self.tool(server_of(data), data["tool_name"])[0]
        log = mcp_log_build(project=self.project, tool=tool, data=data)
        self.new_logs.append(log)
        self.new_log_ids.add(log.pk)
        return 201, log.pk

    HANDLERS = {
        "run.create": run_create,
        "run.update": run_update,
        "run.end": run_end,
        "step.create": step_create,
        "step.update": step_update,
        "mcp.tool": mcp_tool,
        "mcp.log": mcp_log,
    }

    def run(self, run_id: UUID) -> Run:
        run = self.runs.get(run_id)
        if run is None:
            raise Http404
        return run

    def changed(self, run: Run) -> None:
        if run.pk not in self.new_runs:
            self.changed_runs[run.pk] = run

    def step_index(self, run: Run, given: int | None) -> int:
        """The given index unless taken (409), else one past the highest so far, like the single post."""
        next_index = self.next_index.get(run.pk, self.highest_index.get(run.pk, -1) + 1)
        if given is not None and (given in self.used_indexes[run.pk] or (run.pk, given) in self.taken_indexes):
            raise step_index_taken(given)
        index = next_index if given is None else given
        self.used_indexes[run.pk].add(index)
        self.next_index[run.pk] = max(next_index, index + 1)
        return index

    def count(self, run: Run, **deltas: int) -> None:
        """New runs count in memory; stored ones collect deltas, written with F() in `save`."""
        for field, delta in deltas.items():
            if run.pk in self.new_runs:
                setattr(run, field, getattr(run, field) + delta)
            else:
                self.deltas[run.pk][field] += delta
        self.changed(run)

    def note_step_end(self, run: Run, step: RunStep) -> None:
        live = run_live_duration(run=run, step_ended_at=step.ended_at)
        if live is not None:
            run.duration_ms = live

    def tool(self, server: str, tool_name: str) -> tuple[McpTool, bool]:
        """As apps.mcp.services.mcp_tool_upsert finds it: naming no server names the only tool of
        that name, if only one server offers it."""
        tool = self.tools.get((server, tool_name))
        if tool is None and not server:
            same_name = [tool for (_, name), tool in self.tools.items() if name == tool_name]
            tool = same_name[0] if len(same_name) == 1 else None
        unclaimed = self.tools.get(("", tool_name))
        if tool is None and server and unclaimed is not None and unclaimed.version == 0:
            tool = self.tools[server, tool_name] = self.tools.pop(("", tool_name))  # known only from calls
            tool.server_name = server
            if tool not in self.new_tools:
                self.changed_tools[tool.pk] = tool
                self.changed_tool_fields.add("server_name")
        if tool is not None:
            return tool, False
        tool = McpTool(project=self.project, server_name=server, tool_name=tool_name)
        self.tools[server, tool_name] = self.tools_by_id[tool.pk] = tool
        self.new_tools.append(tool)
        return tool, True

    # Writing: bulk operations, each run's counters once -----------------------------------------

    def save(self) -> None:
        Run.objects.bulk_create(self.new_runs.values())
        McpTool.objects.bulk_create(self.new_tools)
        McpToolVersion.objects.bulk_create(self.new_tool_versions)
        bulk_insert(RunStep, list(self.new_steps.values()))  # COPY on PostgreSQL
        McpLog.objects.bulk_create(self.new_logs)
        if self.changed_steps:
            RunStep.objects.bulk_update(self.changed_steps.values(), STEP_PATCH_FIELDS)
        if self.changed_tools:
            fields = [*self.changed_tool_fields, "version", "changed_at", "updated_at"]
            McpTool.objects.bulk_update(self.changed_tools.values(), fields)
        if self.changed_runs:
            for run in self.changed_runs.values():
                for field in COUNTERS:
                    setattr(run, field, F(field) + self.deltas[run.pk][field])
            Run.objects.bulk_update(self.changed_runs.values(), [*RUN_WRITE_FIELDS, *COUNTERS])
        # Bulk writes send no signals: the dashboard's rollup forgets the closed days these runs started on.
        days = {run.started_at.date(): run.started_at for run in [*self.new_runs.values(), *self.changed_runs.values()]}
        for started_at in days.values():
            rollup_invalidate(project_id=self.project.pk, started_at=started_at, now=self.now)
