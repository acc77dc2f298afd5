"""Reads of runs and steps, always scoped to what the caller may see.

The runs list pages by keyset (started_at, id), newest first, never by OFFSET, so the millionth run
costs what the first does; each page is served by an index that starts with the project
(see Run.Meta.indexes). The timeline of a run lives in apps.runs.timeline.
"""

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from django.db import connection
from django.db.models import BooleanField, F, Q, QuerySet, TextField
from django.db.models.expressions import RawSQL
from django.db.models.fields.json import KeyTransform
from django.db.models.functions import Cast, Substr
from django.shortcuts import get_object_or_404

from apps.projects.models import Project
from apps.projects.selectors import project_authorize, project_get, projects_for_user
from apps.runs import search
from apps.runs.models import Run, RunStep, StepType

MAX_AGENT_NAMES = 500


def run_get_for_project(*, project: Project, run_id: UUID, lock: bool = False) -> Run:
    """The project's run, or 404: another project's run must look like no run at all.

    `lock=True` takes the row lock (PostgreSQL `SELECT ... FOR UPDATE`) that serialises every write
    to the run and its counters; call it inside a transaction.
    """
    runs = Run.objects.select_for_update() if lock else Run.objects.all()
    return get_object_or_404(runs, project=project, pk=run_id)


def run_lock(*, run: Run) -> None:
    """Takes `run`'s row lock for the rest of the caller's transaction: its writes wait until then."""
    list(Run.objects.select_for_update().filter(pk=run.pk).values_list("pk", flat=True))


def step_get_for_run(*, run: Run, step_id: UUID) -> RunStep:
    return get_object_or_404(RunStep, run=run, pk=step_id)


def run_get_for_user(*, user, run_id: UUID, action: str = "read") -> Run:
    """A run of one of the user's organizations' projects, or 404; 403 if their role can't do `action`."""
    runs = Run.objects.select_related("project").filter(project__organization__memberships__user=user)
    run = get_object_or_404(runs.annotate(member_role=F("project__organization__memberships__role")), pk=run_id)
    project_authorize(user=user, project=run.project, action=action, role=run.member_role)
    return run


def step_at(*, run: Run, index: int) -> RunStep | None:
    return RunStep.objects.filter(run=run, step_index=index).order_by().first()


def step_parent(*, step: RunStep) -> RunStep | None:
    if step.parent_id is None:
        return None
    return RunStep.objects.filter(run_id=step.run_id, pk=step.parent_id).only("step_index", "name").order_by().first()


# The runs list -----------------------------------------------------------------------------------


def project_ids_for_user(*, user, project_id: UUID | None = None) -> list[UUID]:
    """The ids of the user's projects, or just `project_id` when it is one of them (else 404)."""
    if project_id is not None:
        return [project_get(user=user, project_id=project_id).pk]
    return list(projects_for_user(user=user).values_list("pk", flat=True))


def runs_in_projects(project_ids: list[UUID]) -> QuerySet[Run]:
    """Filtering on the project ids themselves, not a join, lets each project's index serve the order."""
    if len(project_ids) == 1:
        return Run.objects.filter(project_id=project_ids[0])
    return Run.objects.filter(project_id__in=project_ids)


# Range filters of the list: `<name>_min` and `<name>_max` (inclusive) on a column of the run. A run
# without a price (cost_usd null) is never within a cost bound.
RANGE_FILTERS = {"latency": "duration_ms", "tokens": "total_tokens", "cost": "cost_usd"}
# Equality filters on a column of the run (each served by an index in Run.Meta.indexes).
EQUAL_FILTERS = ("status", "agent_name", "session_id", "user_id")
FILTER_KEYS = (
    *EQUAL_FILTERS, "started_after", "started_before", "q", "has_error", "tool", "model", "metadata",
    *(f"{name}_{end}" for name in RANGE_FILTERS for end in ("min", "max")),
)  # fmt: skip


def runs_filter(runs: QuerySet[Run], **filters) -> QuerySet[Run]:
    """The runs that pass every filter given (FILTER_KEYS; None or "" filters nothing).

    `q` is a run id, the start of an external id, or a full-text search (apps.runs.search) of the
    runs' external ids, agent names, inputs, outputs and errors and their steps' names, inputs,
    outputs and errors: a run matches when it or one of its steps does. `tool` and `model` keep the
    runs with a tool call of that name, an LLM call of that model (`metadata.model`); `metadata` is
    (key, value): the run's metadata has that key with that value (as text).
    """
    runs = runs.filter(**{name: filters[name] for name in EQUAL_FILTERS if filters.get(name)})
    if filters.get("started_after"):
        runs = runs.filter(started_at__gte=filters["started_after"])
    if filters.get("started_before"):
        runs = runs.filter(started_at__lt=filters["started_before"])
    for name, column in RANGE_FILTERS.items():
        if filters.get(f"{name}_min") is not None:
            runs = runs.filter(**{f"{column}__gte": filters[f"{name}_min"]})
        if filters.get(f"{name}_max") is not None:
            runs = runs.filter(**{f"{column}__lte": filters[f"{name}_max"]})
    if filters.get("has_error") is not None:
        runs = runs.filter(error_count__gt=0) if filters["has_error"] else runs.filter(error_count=0)
    if filters.get("tool"):
        runs = runs.filter(_run_has_step("name = %s", StepType.TOOL_CALL, filters["tool"]))
    if filters.get("model"):
        if connection.vendor == "postgresql":
            runs = runs.filter(
                _run_has_step("(metadata -> 'model') = %s::jsonb", StepType.LLM_CALL, json.dumps(filters["model"]))
            )
        else:
            runs = runs.filter(
                _run_has_step("json_extract(metadata, '$.model') = %s", StepType.LLM_CALL, filters["model"])
            )
    if filters.get("metadata"):
        runs = _with_metadata(runs, *filters["metadata"])
    if q := (filters.get("q") or "").strip():
        runs = runs.filter(pk=run_id) if (run_id := as_uuid(q)) else _searched(runs, q)
    return runs


def _searched(runs: QuerySet[Run], q: str) -> QuerySet[Run]:
    """The runs matching the search `q`, or whose external id starts with it (as typed: its index serves it)."""
    query = search.search_query_parse(q)
    if search.is_common(query):  # walk the runs in the list's order, checking each
        run_sql, run_params = search.match_sql("runs", query)
        step_sql, step_params = search.match_sql("run_steps", query)
        # OFFSET 0: checked run by run; else PostgreSQL hashes every matching step first (seconds)
        steps = f'EXISTS (SELECT 1 FROM "run_steps" WHERE "run_steps"."run_id" = "runs"."id" AND {step_sql} OFFSET 0)'
        matched = RawSQL(f"({run_sql} OR {steps})", [*run_params, *step_params], BooleanField())
        return runs.filter(Q(matched) | Q(external_id__startswith=q))
    sql, params = search.matching_run_ids_sql(query)
    prefix, prefix_params = runs.filter(external_id__startswith=q).order_by().values("pk").query.sql_with_params()
    return runs.filter(pk__in=RawSQL(f"{sql} UNION ALL {prefix}", [*params, *prefix_params]))


def _run_has_step(condition: str, step_type: str, value) -> RawSQL:
    """The run has a step of `step_type` meeting `condition`, checked run by run along the list's order
    through the step indexes ((name, run) for tools, (metadata->'model', run) for models): OFFSET 0 keeps
    PostgreSQL from joining from every such step first, which its estimates of these indexes mislead."""
    sql = (
        'EXISTS (SELECT 1 FROM "run_steps" WHERE "run_steps"."run_id" = "runs"."id"'
        f' AND "run_steps"."step_type" = %s AND {condition}'
        + (" OFFSET 0)" if connection.vendor == "postgresql" else ")")
    )
    return RawSQL(sql, [step_type, value], BooleanField())


def _with_metadata(runs: QuerySet[Run], key: str, value: str) -> QuerySet[Run]:
    """On PostgreSQL a containment (`@>`) the GIN index on metadata serves; SQLite reads the key."""
    if connection.vendor == "postgresql":
        return runs.filter(metadata__contains={key: value})
    return runs.alias(meta_value=KeyTransform(key, "metadata")).filter(meta_value=value)


def runs_for_filters(*, project_ids: list[UUID], filters: dict) -> QuerySet[Run]:
    """The runs of the list (API and page alike) for the filters of RunFilterInput."""
    return runs_filter(runs_in_projects(project_ids), **{key: filters.get(key) for key in FILTER_KEYS})


def as_uuid(text: str) -> UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def run_agent_names(*, project_ids: list[UUID]) -> list[str]:
    """The distinct agent names of these projects, sorted.

    A recursive query hops from one name to the next along the (project, agent_name, started_at)
    index: one index probe per name instead of reading every run (a "loose index scan").
    """
    column = Run._meta.get_field("project").target_field
    names: set[str] = set()
    sql = """
        WITH RECURSIVE names(name) AS (
            SELECT MIN(agent_name) FROM runs WHERE project_id = %s
            UNION ALL
            SELECT (SELECT MIN(agent_name) FROM runs WHERE project_id = %s AND agent_name > names.name)
            FROM names WHERE names.name IS NOT NULL
        )
        SELECT name FROM names WHERE name IS NOT NULL LIMIT %s
    """
    with connection.cursor() as cursor:
        for project_id in project_ids:
            value = column.get_db_prep_value(project_id, connection)
            cursor.execute(sql, [value, value, MAX_AGENT_NAMES])
            names.update(row[0] for row in cursor.fetchall())
    return sorted(names, key=str.casefold)


@dataclass(frozen=True)
class RunCursor:
    """A position in the list: the run at an edge of a page, and which way the next page goes."""

    started_at: datetime
    id: UUID
    newer: bool = False

    def encode(self) -> str:
        raw = f"{'p' if self.newer else 'n'}|{self.started_at.isoformat()}|{self.id.hex}"
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> "RunCursor":
        """Raises ValueError for anything that isn't a cursor this class made."""
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
            direction, moment, run_id = raw.split("|")
            started_at = datetime.fromisoformat(moment)
        except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
            raise ValueError("Not a valid cursor.") from exc
        if direction not in ("p", "n") or started_at.tzinfo is None:
            raise ValueError("Not a valid cursor.")
        return cls(started_at=started_at, id=UUID(hex=run_id), newer=direction == "p")


@dataclass
class RunsPage:
    runs: list[Run]
    older: RunCursor | None  # the next page, further back in time
    newer: RunCursor | None  # the previous page


NEWEST_FIRST = ("-started_at", "-id")


def runs_page(runs: QuerySet[Run], *, cursor: RunCursor | None = None, size: int = 50) -> RunsPage:
    """One page of `runs`, newest first, after (or, for a `newer` cursor, before) the cursor.

    Each bound repeats `started_at <=`/`>=` next to the (started_at, id) comparison so the index
    range starts at the cursor instead of being filtered from the top.
    """
    if cursor is None:
        rows = list(runs.order_by(*NEWEST_FIRST)[: size + 1])
        return _page(rows[:size], has_older=len(rows) > size, has_newer=False)
    at, pk = cursor.started_at, cursor.id
    if not cursor.newer:
        older = runs.filter(started_at__lte=at).filter(Q(started_at__lt=at) | Q(pk__lt=pk))
        rows = list(older.order_by(*NEWEST_FIRST)[: size + 1])
        return _page(rows[:size], has_older=len(rows) > size, has_newer=True)
    newer = runs.filter(started_at__gte=at).filter(Q(started_at__gt=at) | Q(pk__gt=pk))
    rows = list(newer.order_by("started_at", "id")[: size + 1])
    if len(rows) <= size:  # back at the top: show a full first page rather than a short one
        return runs_page(runs, size=size)
    return _page(rows[:size][::-1], has_older=True, has_newer=True)


def _page(rows: list[Run], *, has_older: bool, has_newer: bool) -> RunsPage:
    if not rows:
        return RunsPage(runs=[], older=None, newer=None)
    first, last = rows[0], rows[-1]
    return RunsPage(
        runs=rows,
        older=RunCursor(last.started_at, last.pk) if has_older else None,
        newer=RunCursor(first.started_at, first.pk, newer=True) if has_newer else None,
    )


RUN_ROW_FIELDS = (
    "id", "project_id", "external_id", "agent_name", "status", "started_at", "ended_at", "created_at",
    "step_count", "error_count", "total_tokens", "duration_ms", "replay_of_id", "replay_from_step",
    "cost_usd", "unpriced_steps",
    "session_id", "user_id",
)  # fmt: skip


PREVIEW_CHARS = 300  # of the input's and output's JSON text, for a row's "input → output" line


def runs_rows(runs: QuerySet[Run]) -> QuerySet[Run]:
    """Without the JSON columns: a list row never shows them."""
    return runs.only(*RUN_ROW_FIELDS)


def runs_preview_rows(runs: QuerySet[Run]) -> QuerySet[Run]:
    """The list page's rows: no JSON columns, only the start of the input, output and error as
    text, for each row's "input → output" line."""
    head = {
        f"{field}_head": Substr(Cast(field, output_field=TextField()), 1, PREVIEW_CHARS)
        for field in ("input", "output", "error")
    }
    return runs_rows(runs).annotate(**head)


@dataclass(frozen=True)
class SearchHit:
    """Where a run matched a search: the first step that did (None: the run itself) and a snippet."""

    step_index: int | None
    step_name: str | None
    snippet: search.Snippet | None


def search_hits(*, runs: list[Run], q: str) -> dict[UUID, SearchHit]:
    """For each run of a page of search results, its first matching step (by index) with a snippet,
    else a snippet of the run itself: one query for the steps, one for the runs that had none."""
    if not runs or not (q := (q or "").strip()) or as_uuid(q):
        return {}
    query = search.search_query_parse(q)
    ids = [run.pk for run in runs]
    condition, params = search.match_sql("run_steps", query)
    steps = (
        RunStep.objects.filter(run_id__in=ids)
        .filter(RawSQL(condition, params, output_field=BooleanField()))
        .order_by("run_id", "step_index")
        .values_list("run_id", "step_index", "name", "input", "output", "error")
    )
    if connection.vendor == "postgresql":
        steps = steps.distinct("run_id")
    hits = {}
    for run_id, index, name, *values in steps:
        if run_id not in hits:
            hits[run_id] = SearchHit(index, name, search.snippet([name, *values], query))
    if missing := [pk for pk in ids if pk not in hits]:
        fields = ("external_id", "agent_name", "input", "output", "error")
        for run_id, *values in Run.objects.filter(pk__in=missing).values_list("pk", *fields):
            hits[run_id] = SearchHit(None, None, search.snippet(values, query))
    return hits


# Steps -------------------------------------------------------------------------------------------


@dataclass
class StepsPage:
    steps: list[RunStep]
    has_before: bool
    has_after: bool


def steps_page(
    steps: QuerySet[RunStep], *, after: int | None = None, before: int | None = None, size: int = 100
) -> StepsPage:
    """Steps by index: the first `size`, those after index `after`, or those just before `before`."""
    if before is not None:
        rows = list(steps.filter(step_index__lt=before).order_by("-step_index")[: size + 1])
        return StepsPage(steps=rows[:size][::-1], has_before=len(rows) > size, has_after=True)
    if after is not None:
        steps = steps.filter(step_index__gt=after)
    rows = list(steps.order_by("step_index")[: size + 1])
    return StepsPage(steps=rows[:size], has_before=after is not None and after >= 0, has_after=len(rows) > size)


def steps_for_run(*, run: Run) -> QuerySet[RunStep]:
    return RunStep.objects.filter(run=run)


def first_error_index(*, run: Run) -> int | None:
    """The index of the run's first failed step (or step carrying an error), for "jump to error"."""
    found = first_error(run=run)
    return found[0] if found else None


def first_error(*, run: Run) -> tuple[int, object] | None:
    """(index, error) of the run's first error step (RunStep.error_filter), for "jump to error"."""
    return (
        steps_for_run(run=run)
        .filter(RunStep.error_filter())
        .order_by("step_index")
        .values_list("step_index", "error")
        .first()
    )


# Replays -----------------------------------------------------------------------------------------


def replays_of(*, run: Run, limit: int = 20) -> list[Run]:
    """The newest replays of `run` (they are in its project, so the caller may see them)."""
    return list(runs_rows(Run.objects.filter(replay_of=run)).order_by("-started_at")[:limit])


@dataclass
class RunSoFar:
    """What a run already holds that a late summary of it (its OpenTelemetry root span) reads."""

    metadata: dict | None
    first_llm_input: tuple[datetime | None, object] | None  # (started_at, input) of the first LLM step with one
    last_llm_output: tuple[datetime | None, object] | None  # (started_at, output) of the last with one


def runs_so_far(*, project: Project, run_ids: list[UUID]) -> dict[UUID, RunSoFar]:
    """The project's runs among `run_ids` that are stored, by id: one query, and two per run found."""
    found = dict(Run.objects.filter(project=project, pk__in=run_ids).values_list("pk", "metadata"))
    so_far = {}
    for run_id, metadata in found.items():
        llm = RunStep.objects.filter(run_id=run_id, step_type=StepType.LLM_CALL).order_by()
        first = llm.filter(input__isnull=False).order_by("started_at", "step_index").values_list("started_at", "input")
        last = (
            llm.filter(output__isnull=False).order_by("-started_at", "-step_index").values_list("started_at", "output")
        )
        so_far[run_id] = RunSoFar(metadata, first.first(), last.first())
    return so_far


def paused_runs_metrics():
    """For /metrics (apps.core.metrics): the runs paused at a breakpoint now, across every project."""
    from prometheus_client.core import GaugeMetricFamily

    from apps.runs.models import RunStatus

    count = Run.objects.filter(status=RunStatus.PAUSED).count()
    yield GaugeMetricFamily("agentscope_paused_runs", "Runs paused at a breakpoint, waiting for a person.", count)


def traces_recorded_by_integrations(*, project: Project, external_ids: list[str]) -> set[str]:
    """Which of `external_ids` (OpenTelemetry trace ids) name a run a framework integration of the SDK
    records (docs/integrations.md): its OTLP spans would record the same agent a second time."""
    runs = Run.objects.filter(project=project, external_id__in=external_ids, metadata__has_key="integration")
    return set(runs.values_list("external_id", flat=True))
