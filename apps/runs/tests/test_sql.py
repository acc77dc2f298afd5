"""insert_rows and update_row (COPY on PostgreSQL for many rows) store what the ORM stores."""

import uuid

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.core.sql import COPY_FROM, Columns, insert_rows, query_values, select_rows, update_row
from apps.runs.models import RunStep
from apps.runs.services import run_create

pytestmark = pytest.mark.django_db

FIELDS = [f.attname for f in RunStep._meta.concrete_fields]
COMPARED = [name for name in FIELDS if name not in ("id", "step_index", "created_at")]  # bulk_create sets its own


def steps(run, start: int, count: int = 3) -> list[RunStep]:
    shapes = [
        {"step_type": "llm_call", "name": "plan", "input": {"q": "é \ud7ff"}, "output": None},
        {"step_type": "tool_call", "input": [1, None], "output": "null", "metadata": {}},
        {"step_type": "custom", "error": {"m": 1}, "tokens_used": 3, "status": "failed", "started_at": timezone.now()},
    ]
    made = []
    for n in range(count):
        step = RunStep(run=run, step_index=start + n, created_at=timezone.now(), **shapes[n % 3])
        step.id = uuid.uuid4()
        made.append(step)
    return made


def rows(objs: list[RunStep]) -> list[list]:
    return [[getattr(obj, name) for name in FIELDS] for obj in objs]


def stored(run, indexes) -> list[tuple]:
    return list(RunStep.objects.filter(run=run, step_index__in=indexes).order_by("step_index").values_list(*COMPARED))


@pytest.mark.parametrize("count", [3, COPY_FROM])  # one INSERT, and COPY on PostgreSQL
def test_it_stores_what_bulk_create_stores(project, count):
    run = run_create(project=project, agent_name="bot")[0]
    inserted, created = steps(run, 0, count), steps(run, count, count)
    for a, b in zip(inserted, created, strict=True):
        b.started_at = a.started_at
    insert_rows(RunStep, FIELDS, rows(inserted))
    RunStep.objects.bulk_create(created)
    assert stored(run, range(count)) == stored(run, range(count, 2 * count))
    step = RunStep.objects.get(pk=inserted[0].pk)
    assert (step.input, step.output, step.created_at) == ({"q": "é \ud7ff"}, None, inserted[0].created_at)
    assert RunStep.objects.get(pk=inserted[1].pk).output == "null"  # a JSON string, not SQL NULL


def test_update_row_writes_the_values_given(project):
    run = run_create(project=project, agent_name="bot")[0]
    step = steps(run, 0, 1)[0]
    insert_rows(RunStep, FIELDS, rows([step]))
    update_row(RunStep, step.pk, {"output": {"a": [1]}, "error": None, "tokens_used": 7, "ended_at": step.created_at})
    step = RunStep.objects.get(pk=step.pk)
    assert (step.output, step.error, step.tokens_used, step.ended_at) == ({"a": [1]}, None, 7, step.created_at)


@pytest.mark.parametrize("count", [1, COPY_FROM])
def test_a_duplicate_is_an_integrity_error_and_a_logged_query(project, count, django_assert_num_queries):
    run = run_create(project=project, agent_name="bot")[0]
    duplicates = rows(steps(run, 0, count))
    insert_rows(RunStep, FIELDS, duplicates)
    # one statement: an INSERT, an executemany on SQLite, or a COPY on PostgreSQL
    with pytest.raises(IntegrityError), transaction.atomic(), django_assert_num_queries(1):
        insert_rows(RunStep, FIELDS, duplicates)
    assert RunStep.objects.filter(run=run).count() == count


def test_a_copy_is_logged_like_any_query(project):
    """Django's PostgreSQL cursor logs `copy()` itself: query counts and DEBUG see the COPY, once."""
    if connection.vendor != "postgresql":
        pytest.skip("COPY is PostgreSQL's")
    run = run_create(project=project, agent_name="bot")[0]
    with CaptureQueriesContext(connection) as captured:
        insert_rows(RunStep, FIELDS, rows(steps(run, 0, COPY_FROM)))
    assert [query["sql"] for query in captured.captured_queries] == [
        f'COPY "run_steps" ({", ".join(connection.ops.quote_name(name) for name in FIELDS)}) FROM STDIN'
    ]


def test_json_that_orjson_refuses_is_written_by_the_standard_library(project):
    run = run_create(project=project, agent_name="bot")[0]
    step = steps(run, 0, 1)[0]
    step.output, step.metadata = {"big": 2**70, "text": "é"}, {1: "one"}
    insert_rows(RunStep, FIELDS, rows([step]))
    stored = RunStep.objects.get(pk=step.pk)
    assert (stored.output, stored.metadata) == ({"big": 2**70, "text": "é"}, {"1": "one"})


def test_select_rows_gives_what_the_orm_gives(project):
    """select_rows converts with the backends' converters (`connection.ops.get_db_converters`, the
    fields' own) as the ORM's compiler does: if an upgrade changes them, this says so on each vendor."""
    run = run_create(project=project, agent_name="bot", external_id="e-1", metadata={"k": [1, None]})[0]
    fields = [f for f in type(run)._meta.concrete_fields]
    table = connection.ops.quote_name(type(run)._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    pk = query_values(type(run), "id", [run.pk])
    [row] = select_rows(f"SELECT {columns} FROM {table} WHERE id = %s", pk, Columns(*fields))
    expected = type(run).objects.filter(pk=run.pk).values_list(*(f.attname for f in fields)).get()
    assert row == list(expected)
    assert [type(value) for value in row] == [type(value) for value in expected]


def test_json_written_here_is_found_by_the_orms_json_lookups(project):
    """SQLite compares JSON as the text stored: it must be the text Django itself would store."""
    run = run_create(project=project, agent_name="bot")[0]
    step = steps(run, 0, 1)[0]
    step.input = {"question": "Which planet?", "k": [1, None], "é": True}
    insert_rows(RunStep, FIELDS, rows([step]))
    assert RunStep.objects.filter(input={"question": "Which planet?", "k": [1, None], "é": True}).exists()
    assert RunStep.objects.filter(input__question="Which planet?").exists()
