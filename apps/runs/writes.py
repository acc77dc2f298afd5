"""The one write path for runs and steps (DESIGN.md section 1).

Single ingest posts (batches of one), batches, replays, breakpoint decisions and the OpenTelemetry
mapper all write runs and steps through `runs_write`, so each rule is applied once: client ids
(a retry is a no-op, another run's or project's id a 409), gap-free step indexes, parents in the
same run, the run's counters and live duration, and the daily rollup's staleness.

`runs_write(project_id=..., events=[(kind, data), ...])` applies the events in order and answers
one `Result` per event: 201 or 200 with the run or step, or the error that event alone gets (one
bad event sinks no other). Events name their run by `run_id`, or by `run_external_id` (a run found,
or created earlier in the same call, by its `external_id`). Kinds, with the keys they read:

    run.create   id, external_id, agent_name, input, metadata, started_at, status,
                 replay_of_id, replay_from_step
    run.update   status, output, error, metadata
    run.end      status, output, error, metadata, ended_at
    run.pause / run.unpause          (only from running or pending / from paused)
    run.abort    error, ended_at      (only an unfinished run: it fails)
    run.restart  status, started_at   (a replay picked up)
    step.create  id, step_type, name, input, output, metadata, error, tokens_used, latency_ms,
                 started_at, ended_at, parent_id, step_index, status
    step.update  id, output, error, metadata, tokens_used, latency_ms, ended_at, status, input
    step.note    id, metadata, input   (neither ends the step nor counts)

With `parents_may_wait=True` (the OpenTelemetry mapper: spans arrive in any order), a step may name
a parent not stored yet: the step keeps it in `parent_pending_id` and gets it as `parent` when a step
with that id is written to the same run, in this call or a later one.

How, in a few statements whatever the number of events: the runs named are read and locked in
one query (in id order, so two writers can't deadlock), the stored steps named in one more; the
events are applied to plain values in memory; then new runs, new steps (COPY on PostgreSQL when
many), changed steps and each changed run once are written. Client ids and explicit indexes are not
looked up first: a retry that names a stored id makes the insert fail, and the write starts over
(rolled back), this time looking them up. A retry costs a little more so that a first post costs less.
"""

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Max
from django.utils import timezone

from apps.core.errors import ApplicationError
from apps.core.sql import insert_rows, query_values, select_rows, update_row
from apps.core.timing import ms_between
from apps.runs.events import (
    INT_MAX,
    STEP_FIELDS,
    Result,
    Written,
    latency_between,
    metadata_merged,
    new_step_row,
    not_found,
    run_id_taken,
    step_id_taken,
    step_index_taken,
    step_is_error,
    step_parent_unknown,
)
from apps.runs.models import FINISHED, Run, RunStatus, RunStep
from apps.runs.onestep import one_step_write
from apps.runs.rollup import rollup_days_touch, rollup_key

__all__ = ["INT_MAX", "Result", "Written", "runs_write"]

ATTEMPTS = 3
RUN_FIELDS = tuple(f.attname for f in Run._meta.concrete_fields)
RUN_LEAN = tuple(name for name in RUN_FIELDS if name not in ("input", "output", "metadata", "error"))
_RUN_COLUMNS = {field.attname: field for field in Run._meta.concrete_fields}
RUN_EVENTS = ("run.update", "run.end", "run.pause", "run.unpause", "run.abort", "run.restart")
UNFINISHED = (RunStatus.PENDING, RunStatus.RUNNING, RunStatus.PAUSED)


def runs_write(
    *,
    project_id: UUID,
    events: Sequence[tuple[str, dict]],
    parents_may_wait: bool = False,
    now: datetime | None = None,
) -> Written:
    if not events:
        return Written([])
    now = now or timezone.now()
    if len(events) == 1 and (written := one_step_write(project_id=project_id, event=events[0], now=now)):
        return written
    for attempt in range(ATTEMPTS):
        writer = _Writer(project_id=project_id, now=now, careful=attempt > 0, parents_may_wait=parents_may_wait)
        try:
            with transaction.atomic():
                return writer.write(events)
        except IntegrityError:
            # A stored id or index (a retry, or a concurrent writer): start over, looking them up.
            if attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


class _Writer:
    def __init__(self, *, project_id: UUID, now: datetime, careful: bool, parents_may_wait: bool):
        self.project_id, self.now, self.careful, self.parents_may_wait = project_id, now, careful, parents_may_wait
        self.runs: dict[UUID, Run] = {}  # this project's runs the events name: stored (locked) or new
        self.runs_by_external: dict[str, Run] = {}
        self.before: dict[UUID, tuple] = {}  # the rollup key of each stored run, as read
        self.stored_waiting: dict[UUID, int] = {}  # each stored run's steps awaiting a parent, as read
        self.new_runs: dict[UUID, Run] = {}
        self.dirty_runs: dict[UUID, set[str]] = defaultdict(set)
        self.foreign_run_ids: set[UUID] = set()
        self.steps: dict[UUID, dict] = {}  # stored steps the events name, and new ones
        self.parents: dict[UUID, UUID] = {}  # stored step id -> its run id, for parents named
        self.new_steps: dict[UUID, dict] = {}
        self.dirty_steps: dict[UUID, set[str]] = defaultdict(set)
        self.used_indexes: set[tuple[UUID, int]] = set()
        self.taken_indexes: set[tuple[UUID, int]] = set()  # careful: stored (run, index) pairs named
        self.highest: dict[UUID, int] = {}  # careful: each stored run's highest stored index
        self.waiting: dict[tuple[UUID, UUID], list[dict]] = defaultdict(list)  # (run, parent id) -> new steps
        self.parents_written: dict[UUID, list[UUID]] = defaultdict(list)  # stored run -> new step ids
        self.finished: list[Run] = []

    def write(self, events: Sequence[tuple[str, dict]]) -> Written:
        self.load(events)
        results = [self.apply(kind, data) for kind, data in events]
        self.save()
        return Written(results, self.finished)

    def apply(self, kind: str, data: dict) -> Result:
        """Each handler checks everything before it changes anything, so a refused event leaves no trace."""
        try:
            return self.HANDLERS[kind](self, data)
        except ApplicationError as exc:
            return Result(exc.status, error=exc)

    # Reading what the events name: two or three queries whatever their number -----------------

    def load(self, events: Sequence[tuple[str, dict]]) -> None:
        run_ids, external_ids, full = set(), set(), False
        created, parents, patched, indexed = set(), set(), set(), set()
        for kind, data in events:
            if kind == "run.create":
                run_ids.add(data.get("id"))
                external_ids.add(data.get("external_id"))
                full = True  # its answer, when the run exists, is the whole run
            else:
                run_ids.add(data.get("run_id"))
                external_ids.add(data.get("run_external_id"))
                full = full or kind in RUN_EVENTS
            if kind == "step.create":
                created.add(data.get("id"))
                parents.add(data.get("parent_id"))
                if data.get("step_index") is not None:
                    indexed.add(data["step_index"])
            elif kind in ("step.update", "step.note"):
                patched.add(data.get("id"))
        self.load_runs(run_ids - {None}, external_ids - {None}, full)
        whole = patched | created if self.careful else patched
        self.load_steps(whole - {None}, parents - whole - created - {None})
        if self.careful:
            self.load_indexes(indexed)

    def load_runs(self, run_ids: set[UUID], external_ids: set[str], full: bool) -> None:
        if not run_ids and not external_ids:
            return
        match, params = [], query_values(Run, "project_id", [self.project_id])
        for name, values in (("id", run_ids), ("external_id", external_ids)):
            if values:
                match.append(f"{name} IN ({', '.join(['%s'] * len(values))})")
                params += query_values(Run, name, values)
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        names = RUN_FIELDS if full else RUN_LEAN
        sql = f"SELECT {', '.join(names)} FROM runs WHERE project_id = %s AND ({' OR '.join(match)}) ORDER BY id{lock}"
        for values in select_rows(sql, params, [_RUN_COLUMNS[name] for name in names]):
            run = Run.from_db(connection.alias, names, values)
            self.runs[run.pk] = run
            if run.external_id:
                self.runs_by_external[run.external_id] = run
            self.before[run.pk] = rollup_key(run)
            self.stored_waiting[run.pk] = run.steps_awaiting_parent
        if self.careful and (missing := run_ids - self.runs.keys()):
            self.foreign_run_ids = set(Run.objects.filter(pk__in=missing).values_list("pk", flat=True))

    def load_steps(self, whole: set[UUID], parents: set[UUID]) -> None:
        if whole:
            for row in RunStep.objects.filter(pk__in=whole).values(*STEP_FIELDS):
                self.steps[row["id"]] = row
        if parents:
            self.parents = dict(RunStep.objects.filter(pk__in=parents).values_list("id", "run_id"))

    def load_indexes(self, indexed: set[int]) -> None:
        """Careful: the highest index of each run (its counter may lag behind steps written some other
        way) and the explicit indexes already taken."""
        run_ids = list(self.runs)
        if not run_ids:
            return
        tops = RunStep.objects.filter(run_id__in=run_ids).values("run_id").annotate(top=Max("step_index")).order_by()
        self.highest = {row["run_id"]: row["top"] for row in tops}
        if indexed:
            taken = RunStep.objects.filter(run_id__in=run_ids, step_index__in=indexed)
            self.taken_indexes = set(taken.values_list("run_id", "step_index"))

    # Applying events in order, in memory ---------------------------------------------------------

    def run(self, data: dict) -> Run:
        run = (
            self.runs.get(data.get("run_id"))
            if data.get("run_id")
            else self.runs_by_external.get(data.get("run_external_id"))
        )
        if run is None:
            raise not_found()
        return run

    def run_create(self, data: dict) -> Result:
        run_id, external_id = data.get("id"), data.get("external_id") or None
        if run_id in self.foreign_run_ids:
            raise run_id_taken()
        existing = self.runs.get(run_id) or self.runs_by_external.get(external_id)
        if existing is not None:
            return Result(200, run=existing)
        values = {field.attname: field.get_default() for field in Run._meta.concrete_fields}
        values.update(
            id=run_id or values["id"],
            project_id=self.project_id,
            external_id=external_id,
            agent_name=data.get("agent_name"),
            status=data.get("status") or RunStatus.RUNNING,
            input=data.get("input"),
            metadata=data.get("metadata"),
            started_at=data.get("started_at") or self.now,
            created_at=self.now,
            replay_of_id=data.get("replay_of_id"),
            replay_from_step=data.get("replay_from_step"),
        )
        # As stored (from_db): it is, once this write commits; a failed write rolls back with it.
        run = Run.from_db(connection.alias, RUN_FIELDS, [values[name] for name in RUN_FIELDS])
        self.runs[run.pk] = self.new_runs[run.pk] = run
        if external_id:
            self.runs_by_external[external_id] = run
        return Result(201, run=run)

    def run_update(self, data: dict) -> Result:
        run = self.run(data)
        for name in ("status", "output", "error"):
            if name in data:
                setattr(run, name, data[name])
        if "metadata" in data:
            run.metadata = metadata_merged(run.metadata, data["metadata"])
        if run.status in FINISHED and run.ended_at is None:
            run.ended_at = self.now
            run.duration_ms = run.elapsed_ms()
        return self.run_changed(run, "status", "output", "error", "metadata", "ended_at", "duration_ms")

    def run_end(self, data: dict) -> Result:
        """A retry without `ended_at` keeps the first end time, so ending is idempotent."""
        run = self.run(data)
        for name in ("output", "error"):
            if name in data:
                setattr(run, name, data[name])
        if "metadata" in data:
            run.metadata = metadata_merged(run.metadata, data["metadata"])
        run.ended_at = data.get("ended_at") or run.ended_at or self.now
        run.status = data.get("status") or (RunStatus.FAILED if run.error is not None else RunStatus.COMPLETED)
        run.duration_ms = run.elapsed_ms()
        return self.run_changed(run, "status", "output", "error", "metadata", "ended_at", "duration_ms")

    def run_changed(self, run: Run, *fields: str) -> Result:
        self.dirty_runs[run.pk].update(fields)
        if run.is_finished and run not in self.finished:
            self.finished.append(run)
        return Result(200, run=run)

    def run_status_move(self, data: dict, *, from_: tuple, to: str) -> Result:
        run = self.run(data)
        if run.status not in from_:
            return Result(200, run=run, changed=False)
        run.status = to
        self.dirty_runs[run.pk].add("status")
        return Result(200, run=run)

    def run_pause(self, data: dict) -> Result:
        return self.run_status_move(data, from_=(RunStatus.PENDING, RunStatus.RUNNING), to=RunStatus.PAUSED)

    def run_unpause(self, data: dict) -> Result:
        return self.run_status_move(data, from_=(RunStatus.PAUSED,), to=RunStatus.RUNNING)

    def run_abort(self, data: dict) -> Result:
        run = self.run(data)
        if run.status not in UNFINISHED:
            return Result(200, run=run, changed=False)
        run.status, run.error = RunStatus.FAILED, data.get("error")
        run.ended_at = data.get("ended_at") or self.now
        run.duration_ms = run.elapsed_ms()
        self.dirty_runs[run.pk].update(("status", "error", "ended_at", "duration_ms"))
        return Result(200, run=run)

    def run_restart(self, data: dict) -> Result:
        """A replay picked up: a new status and start (its copied steps move with it, in apps.runs.replay)."""
        run = self.run(data)
        run.status, run.started_at = data["status"], data["started_at"]
        self.dirty_runs[run.pk].update(("status", "started_at"))
        return Result(200, run=run)

    def step_create(self, data: dict) -> Result:
        run = self.run(data)
        known = self.steps.get(data.get("id")) if data.get("id") else None
        if known is not None:
            if known["run_id"] != run.pk:
                raise step_id_taken()
            return Result(200, run=run, row=known)
        parent, pending = self.step_parent(run, data.get("parent_id"))
        row = new_step_row(data, run_id=run.pk, step_index=self.step_index(run, data.get("step_index")), now=self.now)
        row.update(parent_id=parent, parent_pending_id=pending)
        self.steps[row["id"]] = self.new_steps[row["id"]] = row
        self.step_written(run, row)
        self.count(run, steps=1, errors=int(step_is_error(row)), tokens=row["tokens_used"] or 0)
        self.live_duration(run, row["ended_at"])
        return Result(201, run=run, row=row)

    def step_parent(self, run: Run, parent_id: UUID | None) -> tuple[UUID | None, UUID | None]:
        """(parent, pending parent): a parent must be a step of the run; when the caller lets parents
        wait, one not stored anywhere yet is kept pending."""
        if not parent_id:
            return None, None
        known = self.steps[parent_id]["run_id"] if parent_id in self.steps else self.parents.get(parent_id)
        if known == run.pk:
            return parent_id, None
        if known is None and self.parents_may_wait:
            run.steps_awaiting_parent += 1
            self.dirty_runs[run.pk].add("steps_awaiting_parent")
            return None, parent_id
        raise step_parent_unknown()

    def step_index(self, run: Run, given: int | None) -> int:
        """The given index unless taken (409), else one past the highest so far: gap-free, because the
        run's row is locked until the write commits."""
        if given is not None and ((run.pk, given) in self.used_indexes or (run.pk, given) in self.taken_indexes):
            raise step_index_taken(given)
        index = max(run.next_step_index, self.highest.get(run.pk, -1) + 1) if given is None else given
        self.used_indexes.add((run.pk, index))
        run.next_step_index = max(run.next_step_index, index + 1)
        self.dirty_runs[run.pk].add("next_step_index")
        return index

    def step_written(self, run: Run, row: dict) -> None:
        """Links the steps that waited for this one as their parent: new ones now, stored ones on save."""
        if row["parent_pending_id"] is not None:
            self.waiting[(run.pk, row["parent_pending_id"])].append(row)
        for child in self.waiting.pop((run.pk, row["id"]), ()):
            child["parent_id"], child["parent_pending_id"] = row["id"], None
            run.steps_awaiting_parent -= 1
        if self.stored_waiting.get(run.pk):
            self.parents_written[run.pk].append(row["id"])

    def step_update(self, data: dict) -> Result:
        """Completes a step; the same patch applied twice changes nothing the second time."""
        run, row = self.run(data), self.step_of_run(data)
        was_error, old_tokens = step_is_error(row), row["tokens_used"] or 0
        for name in ("output", "error", "tokens_used", "latency_ms", "input"):
            if name in data:
                row[name] = data[name]
        if "metadata" in data:
            row["metadata"] = metadata_merged(row["metadata"], data["metadata"])
        row["ended_at"] = data.get("ended_at") or row["ended_at"] or self.now
        if row["latency_ms"] is None:
            row["latency_ms"] = latency_between(row["started_at"] or row["created_at"], row["ended_at"])
        row["status"] = data.get("status") or RunStep.status_for(  # failed or completed: it has ended
            step_type=row["step_type"], output=row["output"], error=row["error"], ended_at=row["ended_at"]
        )
        self.step_changed(row, "output", "error", "tokens_used", "latency_ms", "metadata", "ended_at", "status")
        if "input" in data:
            self.step_changed(row, "input")
        self.count(run, errors=int(step_is_error(row)) - int(was_error), tokens=(row["tokens_used"] or 0) - old_tokens)
        self.live_duration(run, row["ended_at"])
        return Result(200, run=run, row=row)

    def step_note(self, data: dict) -> Result:
        run, row = self.run(data), self.step_of_run(data)
        if "metadata" in data:
            row["metadata"] = metadata_merged(row["metadata"], data["metadata"])
            self.step_changed(row, "metadata")
        if "input" in data:
            row["input"] = data["input"]
            self.step_changed(row, "input")
        return Result(200, run=run, row=row)

    def step_of_run(self, data: dict) -> dict:
        row = self.steps.get(data.get("id"))
        if row is None or row["run_id"] != self.run(data).pk:
            raise not_found()
        return row

    def step_changed(self, row: dict, *fields: str) -> None:
        if row["id"] not in self.new_steps:
            self.dirty_steps[row["id"]].update(fields)

    def count(self, run: Run, *, steps: int = 0, errors: int = 0, tokens: int = 0) -> None:
        for name, delta in (("step_count", steps), ("error_count", errors), ("total_tokens", tokens)):
            if delta:
                setattr(run, name, getattr(run, name) + delta)
                self.dirty_runs[run.pk].add(name)

    def live_duration(self, run: Run, step_ended_at: datetime | None) -> None:
        """While a run has not ended, its duration is the latest step end seen so far, from its start."""
        if run.ended_at is not None or step_ended_at is None:
            return
        live = ms_between(run.started_at, step_ended_at)
        if run.duration_ms is None or live > run.duration_ms:
            run.duration_ms = live
            self.dirty_runs[run.pk].add("duration_ms")

    HANDLERS = {
        "run.create": run_create,
        "run.update": run_update,
        "run.end": run_end,
        "run.pause": run_pause,
        "run.unpause": run_unpause,
        "run.abort": run_abort,
        "run.restart": run_restart,
        "step.create": step_create,
        "step.update": step_update,
        "step.note": step_note,
    }

    # Writing: a statement per table, and one per changed row ---------------------------------------

    def save(self) -> None:
        insert_rows(Run, RUN_FIELDS, [[getattr(run, name) for name in RUN_FIELDS] for run in self.new_runs.values()])
        insert_rows(RunStep, STEP_FIELDS, [[row[name] for name in STEP_FIELDS] for row in self.new_steps.values()])
        for step_id, fields in self.dirty_steps.items():
            update_row(RunStep, step_id, {name: self.steps[step_id][name] for name in fields})
        self.link_stored_children()
        for run_id, fields in self.dirty_runs.items():
            if run_id not in self.new_runs:
                update_row(Run, run_id, {name: getattr(self.runs[run_id], name) for name in fields})
        days = {rollup_key(run)[0] for run in self.new_runs.values()}
        for run_id, key in self.before.items():
            if key != (after := rollup_key(self.runs[run_id])):
                days.update((key[0], after[0]))
        rollup_days_touch(project_id=self.project_id, days=days, now=self.now)

    def link_stored_children(self) -> None:
        for run_id, step_ids in self.parents_written.items():
            children = RunStep.objects.filter(run_id=run_id, parent_pending_id__in=step_ids)
            linked = children.update(parent_id=F("parent_pending_id"), parent_pending_id=None)
            if linked:
                self.runs[run_id].steps_awaiting_parent -= linked
                self.dirty_runs[run_id].add("steps_awaiting_parent")
