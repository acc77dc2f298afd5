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
                 replay_of_id, replay_from_step, session_id, user_id
    run.update   status, output, error, metadata, agent_name, input, session_id, user_id,
                 started_at (moves the start earlier only: spans of a trace arrive in any order)
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
with that id is written to the same run, in this call or a later one. With `in_start_order=True` (the
mapper too: a span that started earlier may arrive later), a stored run given new steps has its
steps renumbered by start, so indexes, which the timeline pages by, follow the order steps started in.

How, in a few statements whatever the number of events: the runs named are read and locked in
one query (in id order, so two writers can't deadlock), the stored steps named in one more; the
events are applied to plain values in memory; then new runs, new steps (COPY on PostgreSQL when
many), changed steps and each changed run once are written. Client ids and explicit indexes are not
looked up first: a retry that names a stored id makes the insert fail, and the write starts over
(rolled back), this time looking them up. A retry costs a little more so that a first post costs less.
A lone step on PostgreSQL is first offered to apps.runs.onestep, which writes it in one statement
when nothing but the counters comes into play, by the same rules (apps.runs.events).
"""

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Max
from django.utils import timezone

from apps.core.errors import ApplicationError
from apps.core.sql import Columns, insert_rows, query_values, select_rows, update_row
from apps.core.timing import ms_between
from apps.runs.events import (
    SEARCHED_RUN_FIELDS,
    SEARCHED_STEP_FIELDS,
    STEP_FIELDS,
    Result,
    Written,
    latency_between,
    metadata_merged,
    new_step_row,
    not_found,
    run_cost_add,
    run_document,
    run_id_taken,
    step_document,
    step_id_taken,
    step_index_taken,
    step_is_error,
    step_parent_unknown,
    step_priced,
    step_unpriced,
)
from apps.runs.models import FINISHED, Run, RunStatus, RunStep
from apps.runs.onestep import one_step_write
from apps.runs.pricing import Custom, custom_prices
from apps.runs.rollup import rollup_days_touch, rollup_key

__all__ = ["Result", "Written", "runs_write"]

ATTEMPTS = 3
RUN_FIELDS = tuple(f.attname for f in Run._meta.concrete_fields)
RUN_READ = tuple(name for name in RUN_FIELDS if name != "search")  # written, never read back
RUN_LEAN = tuple(name for name in RUN_READ if name not in ("input", "output", "metadata", "error"))
_RUN_COLUMNS = {
    names: Columns(*(f for f in Run._meta.concrete_fields if f.attname in names)) for names in (RUN_READ, RUN_LEAN)
}
RUN_EVENTS = ("run.update", "run.end", "run.pause", "run.unpause", "run.abort", "run.restart")
UNFINISHED = (RunStatus.PENDING, RunStatus.RUNNING, RunStatus.PAUSED)


def runs_write(
    *,
    project_id: UUID,
    events: Sequence[tuple[str, dict]],
    parents_may_wait: bool = False,
    in_start_order: bool = False,
    now: datetime | None = None,
) -> Written:
    if not events:
        return Written([])
    now = now or timezone.now()
    if len(events) == 1 and (written := one_step_write(project_id=project_id, event=events[0], now=now)):
        return written
    for attempt in range(ATTEMPTS):
        writer = _Writer(
            project_id=project_id,
            now=now,
            careful=attempt > 0,
            parents_may_wait=parents_may_wait,
            in_start_order=in_start_order,
        )
        try:
            with transaction.atomic():
                return writer.write(events)
        except IntegrityError:
            # A stored id or index (a retry, or a concurrent writer): start over, looking them up.
            if attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


class _RunState:
    """A run the events name, with what this write keeps about it (keyed by the run, so an event
    finds all of it in one lookup)."""

    __slots__ = ("before", "dirty", "highest", "new", "run", "stored_waiting", "taken", "used", "waiting", "written")

    def __init__(self, run: Run, *, new: bool):
        self.run, self.new = run, new
        self.dirty: set[str] = set()  # fields to write
        self.used: set[int] = set()  # step indexes given out by this write
        self.taken: set[int] = set()  # careful: explicit indexes named that are stored
        self.highest = -1  # careful: the highest stored index (the counter may lag behind other writers)
        self.before = None if new else rollup_key(run)  # what the rollup summed of it, as read
        self.stored_waiting = 0 if new else run.steps_awaiting_parent
        self.waiting: dict[UUID, list[dict]] = {}  # parent id -> new steps waiting for it
        self.written: list[UUID] = []  # new step ids, when stored steps may wait for one of them


class _Writer:
    def __init__(
        self, *, project_id: UUID, now: datetime, careful: bool, parents_may_wait: bool, in_start_order: bool = False
    ):
        self.project_id, self.now, self.careful, self.parents_may_wait = project_id, now, careful, parents_may_wait
        self.in_start_order = in_start_order
        self.runs: dict[UUID, _RunState] = {}  # this project's runs the events name: stored (locked) or new
        self.runs_by_external: dict[str, _RunState] = {}
        self.foreign_run_ids: set[UUID] = set()
        self.steps: dict[UUID, dict] = {}  # stored steps the events name, and new ones
        self.parents: dict[UUID, UUID] = {}  # stored step id -> its run id, for parents named
        self.new_steps: list[dict] = []
        self.new_step_rows: set[int] = set()  # id() of each new step's row
        self.dirty_steps: dict[UUID, set[str]] = defaultdict(set)
        self.finished: list[Run] = []
        self._custom: list[Custom] | None = None

    def custom(self) -> list[Custom]:
        """The project's own prices, read when a step first needs them."""
        if self._custom is None:
            self._custom = custom_prices(self.project_id)
        return self._custom

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
        names = RUN_READ if full else RUN_LEAN
        sql = f"SELECT {', '.join(names)} FROM runs WHERE project_id = %s AND ({' OR '.join(match)}) ORDER BY id{lock}"
        for values in select_rows(sql, params, _RUN_COLUMNS[names]):
            self.remember(_RunState(Run.from_db(connection.alias, names, values), new=False))
        if self.careful and (missing := run_ids - self.runs.keys()):
            self.foreign_run_ids = set(Run.objects.filter(pk__in=missing).values_list("pk", flat=True))

    def remember(self, state: _RunState) -> None:
        self.runs[state.run.id] = state
        if state.run.external_id:
            self.runs_by_external[state.run.external_id] = state

    def load_steps(self, whole: set[UUID], parents: set[UUID]) -> None:
        if whole:
            for row in RunStep.objects.filter(pk__in=whole).values(*STEP_FIELDS):
                self.steps[row["id"]] = row
        if parents:
            self.parents = dict(RunStep.objects.filter(pk__in=parents).values_list("id", "run_id"))

    def load_indexes(self, indexed: set[int]) -> None:
        """Careful: the highest index of each run (its counter may lag behind steps written some other
        way) and the explicit indexes already taken."""
        if not self.runs:
            return
        stored = RunStep.objects.filter(run_id__in=list(self.runs))
        for run_id, top in stored.values("run_id").annotate(top=Max("step_index")).values_list("run_id", "top"):
            self.runs[run_id].highest = top
        if indexed:
            for run_id, index in stored.filter(step_index__in=indexed).values_list("run_id", "step_index"):
                self.runs[run_id].taken.add(index)

    # Applying events in order, in memory ---------------------------------------------------------

    def state(self, data: dict) -> _RunState:
        run_id = data.get("run_id")
        state = self.runs.get(run_id) if run_id else self.runs_by_external.get(data.get("run_external_id"))
        if state is None:
            raise not_found()
        return state

    def run_create(self, data: dict) -> Result:
        run_id, external_id = data.get("id"), data.get("external_id") or None
        if run_id in self.foreign_run_ids:
            raise run_id_taken()
        existing = self.runs.get(run_id) or self.runs_by_external.get(external_id)
        if existing is not None:
            return Result(200, run=existing.run)
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
            session_id=data.get("session_id") or None,
            user_id=data.get("user_id") or None,
        )
        # As stored (from_db): it is, once this write commits; a failed write rolls back with it.
        run = Run.from_db(connection.alias, RUN_FIELDS, [values[name] for name in RUN_FIELDS])
        self.remember(_RunState(run, new=True))
        return Result(201, run=run)

    def run_update(self, data: dict) -> Result:
        state = self.state(data)
        run = state.run
        given = [name for name in ("status", "output", "error", "agent_name", "input") if name in data]
        given += [name for name in ("session_id", "user_id") if data.get(name)]
        for name in given:
            setattr(run, name, data[name])
        if "metadata" in data:
            run.metadata = metadata_merged(run.metadata, data["metadata"])
        if data.get("started_at") and data["started_at"] < run.started_at:
            run.started_at = data["started_at"]
            given.append("started_at")
            if run.ended_at is not None:
                run.duration_ms = run.elapsed_ms()
        if run.status in FINISHED and run.ended_at is None:
            run.ended_at = self.now
            run.duration_ms = run.elapsed_ms()
        return self.run_changed(state, *given, "metadata", "ended_at", "duration_ms")

    def run_end(self, data: dict) -> Result:
        """A retry without `ended_at` keeps the first end time, so ending is idempotent."""
        state = self.state(data)
        run = state.run
        for name in ("output", "error"):
            if name in data:
                setattr(run, name, data[name])
        if "metadata" in data:
            run.metadata = metadata_merged(run.metadata, data["metadata"])
        run.ended_at = data.get("ended_at") or run.ended_at or self.now
        run.status = data.get("status") or (RunStatus.FAILED if run.error is not None else RunStatus.COMPLETED)
        run.duration_ms = run.elapsed_ms()
        return self.run_changed(state, "status", "output", "error", "metadata", "ended_at", "duration_ms")

    def run_changed(self, state: _RunState, *fields: str) -> Result:
        state.dirty.update(fields)
        if state.run.is_finished and state.run not in self.finished:
            self.finished.append(state.run)
        return Result(200, run=state.run)

    def run_status_move(self, data: dict, *, from_: tuple, to: str) -> Result:
        state = self.state(data)
        if state.run.status not in from_:
            return Result(200, run=state.run, changed=False)
        state.run.status = to
        state.dirty.add("status")
        return Result(200, run=state.run)

    def run_pause(self, data: dict) -> Result:
        return self.run_status_move(data, from_=(RunStatus.PENDING, RunStatus.RUNNING), to=RunStatus.PAUSED)

    def run_unpause(self, data: dict) -> Result:
        return self.run_status_move(data, from_=(RunStatus.PAUSED,), to=RunStatus.RUNNING)

    def run_abort(self, data: dict) -> Result:
        state = self.state(data)
        run = state.run
        if run.status not in UNFINISHED:
            return Result(200, run=run, changed=False)
        run.status, run.error = RunStatus.FAILED, data.get("error")
        run.ended_at = data.get("ended_at") or self.now
        run.duration_ms = run.elapsed_ms()
        state.dirty.update(("status", "error", "ended_at", "duration_ms"))
        return Result(200, run=run)

    def run_restart(self, data: dict) -> Result:
        """A replay picked up: a new status and start (its copied steps move with it, in apps.runs.replay)."""
        state = self.state(data)
        state.run.status, state.run.started_at = data["status"], data["started_at"]
        state.dirty.update(("status", "started_at"))
        return Result(200, run=state.run)

    def step_create(self, data: dict) -> Result:
        state = self.state(data)
        run = state.run
        step_id = data.get("id")
        known = self.steps.get(step_id) if step_id else None
        if known is not None:
            if known["run_id"] != run.id:
                raise step_id_taken()
            return Result(200, run=run, row=known)
        parent, pending = self.step_parent(state, data.get("parent_id"))
        row = new_step_row(data, run_id=run.id, step_index=self.step_index(state, data.get("step_index")), now=self.now)
        if parent is not None or pending is not None:
            row["parent_id"], row["parent_pending_id"] = parent, pending
        self.steps[row["id"]] = row
        self.new_steps.append(row)
        self.new_step_rows.add(id(row))
        if state.waiting or state.stored_waiting:
            self.step_waited_for(state, row)
        step_priced(row, self.custom)
        run.step_count += 1
        if step_is_error(row):
            run.error_count += 1
        run.total_tokens += row["tokens_used"] or 0
        if row["cost_usd"] is not None or step_unpriced(row):
            run_cost_add(run, row["cost_usd"], int(step_unpriced(row)))
            state.dirty.update(("cost_usd", "unpriced_steps"))
        state.dirty.update(("step_count", "error_count", "total_tokens", "next_step_index"))
        if row["ended_at"] is not None:
            self.live_duration(state, row["ended_at"])
        return Result(201, run=run, row=row)

    def step_parent(self, state: _RunState, parent_id: UUID | None) -> tuple[UUID | None, UUID | None]:
        """(parent, pending parent): a parent must be a step of the run; when the caller lets parents
        wait, one not stored anywhere yet is kept pending (linked when it is written)."""
        if not parent_id:
            return None, None
        known = self.steps[parent_id]["run_id"] if parent_id in self.steps else self.parents.get(parent_id)
        if known == state.run.id:
            return parent_id, None
        if known is None and self.parents_may_wait:
            state.run.steps_awaiting_parent += 1
            state.dirty.add("steps_awaiting_parent")
            return None, parent_id
        raise step_parent_unknown()

    def step_index(self, state: _RunState, given: int | None) -> int:
        """The given index unless taken (409), else one past the highest so far: gap-free, because the
        run's row is locked until the write commits."""
        run = state.run
        if given is None:
            index = max(run.next_step_index, state.highest + 1)
        elif given in state.used or given in state.taken:
            raise step_index_taken(given)
        else:
            index = given
        state.used.add(index)
        run.next_step_index = max(run.next_step_index, index + 1)
        return index

    def step_waited_for(self, state: _RunState, row: dict) -> None:
        """Links the steps that waited for this one as their parent: new ones now, stored ones on save."""
        if row["parent_pending_id"] is not None:
            state.waiting.setdefault(row["parent_pending_id"], []).append(row)
        for child in state.waiting.pop(row["id"], ()):
            child["parent_id"], child["parent_pending_id"] = row["id"], None
            state.run.steps_awaiting_parent -= 1
        if state.stored_waiting:
            state.written.append(row["id"])

    def step_update(self, data: dict) -> Result:
        """Completes a step; the same patch applied twice changes nothing the second time."""
        state, row = self.state(data), self.step_of_run(data)
        run = state.run
        was_error, old_tokens = step_is_error(row), row["tokens_used"] or 0
        old_cost, was_unpriced = row["cost_usd"], step_unpriced(row)
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
        step_priced(row, self.custom)
        self.step_changed(row, "output", "error", "tokens_used", "latency_ms", "metadata", "ended_at", "status")
        self.step_changed(row, "model", "cost_usd", "cost_details")
        if "input" in data:
            self.step_changed(row, "input")
        self.step_searched(row, data)
        run.error_count += int(step_is_error(row)) - int(was_error)
        run.total_tokens += (row["tokens_used"] or 0) - old_tokens
        state.dirty.update(("error_count", "total_tokens"))
        if row["cost_usd"] != old_cost or step_unpriced(row) != was_unpriced:
            run_cost_add(run, (row["cost_usd"] or 0) - (old_cost or 0), int(step_unpriced(row)) - int(was_unpriced))
            state.dirty.update(("cost_usd", "unpriced_steps"))
        self.live_duration(state, row["ended_at"])
        return Result(200, run=run, row=row)

    def step_note(self, data: dict) -> Result:
        state, row = self.state(data), self.step_of_run(data)
        if "metadata" in data:
            row["metadata"] = metadata_merged(row["metadata"], data["metadata"])
            self.step_changed(row, "metadata")
        if "input" in data:
            row["input"] = data["input"]
            self.step_changed(row, "input")
        self.step_searched(row, data)
        return Result(200, run=state.run, row=row)

    def step_searched(self, row: dict, data: dict) -> None:
        """The step's words again when a field search reads has changed."""
        if any(name in data for name in SEARCHED_STEP_FIELDS):
            row["search"] = step_document(row)
            self.step_changed(row, "search")

    def step_of_run(self, data: dict) -> dict:
        row = self.steps.get(data.get("id"))
        if row is None or row["run_id"] != self.state(data).run.id:
            raise not_found()
        return row

    def step_changed(self, row: dict, *fields: str) -> None:
        if id(row) not in self.new_step_rows:
            self.dirty_steps[row["id"]].update(fields)

    def live_duration(self, state: _RunState, step_ended_at: datetime | None) -> None:
        """While a run has not ended, its duration is the latest step end seen so far, from its start."""
        run = state.run
        if run.ended_at is not None or step_ended_at is None:
            return
        live = ms_between(run.started_at, step_ended_at)
        if run.duration_ms is None or live > run.duration_ms:
            run.duration_ms = live
            state.dirty.add("duration_ms")

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
        states = self.runs.values()
        for state in states:
            if state.new or state.dirty.intersection(SEARCHED_RUN_FIELDS):
                state.run.search = run_document(state.run)
                state.dirty.add("search")
        new_runs = [state.run for state in states if state.new]
        insert_rows(Run, RUN_FIELDS, [[getattr(run, name) for name in RUN_FIELDS] for run in new_runs])
        insert_rows(RunStep, STEP_FIELDS, [[row[name] for name in STEP_FIELDS] for row in self.new_steps])
        for step_id, fields in self.dirty_steps.items():
            update_row(RunStep, step_id, {name: self.steps[step_id][name] for name in fields})
        days = {rollup_key(run)[0] for run in new_runs}
        for state in states:
            if state.new:
                continue
            self.link_stored_children(state)
            if self.in_start_order and state.used:
                steps_in_start_order(run_id=state.run.id)
            if state.dirty:
                update_row(Run, state.run.id, {name: getattr(state.run, name) for name in state.dirty})
            if state.before != (after := rollup_key(state.run)):
                days.update((state.before[0], after[0]))
        rollup_days_touch(project_id=self.project_id, days=days, now=self.now)

    def link_stored_children(self, state: _RunState) -> None:
        if not state.written:
            return
        children = RunStep.objects.filter(run_id=state.run.id, parent_pending_id__in=state.written)
        if linked := children.update(parent_id=F("parent_pending_id"), parent_pending_id=None):
            state.run.steps_awaiting_parent -= linked
            state.dirty.add("steps_awaiting_parent")


# Positions by start (parents before the children that started with them), written in two passes so no
# two steps ever share an index: the steps that move go to -1 - position, then to their position.
_RANK = (
    "UPDATE run_steps SET step_index = -1 - ranked.position FROM ("
    " SELECT id, ROW_NUMBER() OVER (ORDER BY started_at IS NULL, started_at, ended_at IS NULL DESC,"
    " ended_at DESC, step_index) - 1 AS position FROM run_steps WHERE run_id = %s"
    ") AS ranked WHERE run_steps.id = ranked.id AND run_steps.step_index <> ranked.position"
)
_SETTLE = "UPDATE run_steps SET step_index = -1 - step_index WHERE run_id = %s AND step_index < 0"


def steps_in_start_order(*, run_id: UUID) -> None:
    """Renumbers a run's steps in the order they started; the caller holds the run's lock."""
    param = query_values(RunStep, "run_id", [run_id])
    with connection.cursor() as cursor:
        cursor.execute(_RANK, param)
        if cursor.rowcount:
            cursor.execute(_SETTLE, param)
