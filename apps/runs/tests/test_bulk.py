"""bulk_insert (COPY on PostgreSQL) stores what bulk_create stores."""

import pytest
from django.db import IntegrityError, transaction

from apps.core.bulk import bulk_insert
from apps.runs.models import RunStep
from apps.runs.services import run_create

pytestmark = pytest.mark.django_db

FIELDS = [f.attname for f in RunStep._meta.concrete_fields if f.attname not in ("id", "created_at", "step_index")]


def steps(run, start: int) -> list[RunStep]:
    return [
        RunStep(run=run, step_index=start, step_type="llm_call", name="plan", input={"q": "é \ud7ff"}, output=None),
        RunStep(run=run, step_index=start + 1, step_type="tool_call", input=[1, None], output="null", metadata={}),
        RunStep(run=run, step_index=start + 2, step_type="custom", error={"m": 1}, tokens_used=3, status="failed"),
    ]


def stored(run, indexes) -> list[tuple]:
    return list(RunStep.objects.filter(run=run, step_index__in=indexes).order_by("step_index").values_list(*FIELDS))


def test_it_stores_what_bulk_create_stores(project):
    run = run_create(project=project, agent_name="bot")[0]
    copied, created = steps(run, 0), steps(run, 3)
    bulk_insert(RunStep, copied)
    RunStep.objects.bulk_create(created)
    assert stored(run, [0, 1, 2]) == stored(run, [3, 4, 5])
    step = RunStep.objects.get(pk=copied[0].pk)
    assert (step.input, step.output, step.created_at) == ({"q": "é \ud7ff"}, None, copied[0].created_at)
    assert RunStep.objects.get(pk=copied[1].pk).output == "null"  # a JSON string, not SQL NULL
    assert all(not s._state.adding and s.created_at is not None for s in copied)


def test_a_duplicate_is_an_integrity_error_and_a_logged_query(project, django_assert_num_queries):
    run = run_create(project=project, agent_name="bot")[0]
    bulk_insert(RunStep, steps(run, 0))
    with pytest.raises(IntegrityError), transaction.atomic(), django_assert_num_queries(1):
        bulk_insert(RunStep, steps(run, 0))
    assert RunStep.objects.filter(run=run).count() == 3
