"""The ingest input check (apps.ingest.validation) gives exactly what DRF's `is_valid()` gives."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from apps.ingest.serializers import BATCH_EVENT_INPUTS, IngestBatchEventInput, IngestStepCreateInput
from apps.ingest.validation import input_checker
from apps.runs.events import INT_MAX
from apps.runs.services import run_create

RUN_ID, STEP_ID = str(uuid.uuid4()), str(uuid.uuid4())
STEP = {"run_id": RUN_ID, "step_type": "tool_call"}
STEP_BODIES = [
    STEP,
    {**STEP, "id": STEP_ID, "parent_id": None, "name": "  search  ", "input": {"q": [1, None]}, "output": "x"},
    {**STEP, "metadata": {"k": "v"}, "error": None, "tokens_used": 0, "latency_ms": INT_MAX, "step_index": 0},
    {**STEP, "started_at": "2026-01-02T03:04:05.123456+02:00", "ended_at": "2026-01-02T03:04:06", "status": "failed"},
    {**STEP, "name": "", "metadata": None, "tokens_used": None, "step_index": None, "unknown": 1},
    {**STEP, "id": uuid.UUID(STEP_ID).hex.upper(), "parent_id": "{" + STEP_ID + "}"},
    # coerced, or refused, by DRF: the check must agree either way
    {**STEP, "tokens_used": "12"},
    {**STEP, "tokens_used": 1.0},
    {**STEP, "tokens_used": True},
    {**STEP, "tokens_used": -1},
    {**STEP, "latency_ms": INT_MAX + 1},
    {**STEP, "step_index": 10**9 + 1},
    {**STEP, "name": 12},
    {**STEP, "name": "n" * 256},
    {**STEP, "name": " " + "n" * 255 + " "},
    {**STEP, "name": "a\x00b"},
    {**STEP, "step_type": "nope"},
    {**STEP, "step_type": None},
    {**STEP, "status": None},
    {**STEP, "id": 12},
    {**STEP, "id": "not-a-uuid"},
    {**STEP, "run_id": None},
    {**STEP, "metadata": [1]},
    {**STEP, "started_at": "yesterday"},
    {**STEP, "started_at": ""},
    {"step_type": "llm_call"},
    {},
    [],
    None,
    "body",
]


def drf(serializer_class, body):
    """What a serializer built for this body answers (`run_validation`, as a batch event is checked;
    the single endpoints send a body that isn't an object to `is_valid()` itself)."""
    try:
        return "ok", serializer_class().run_validation(body)
    except ValidationError as exc:
        return "error", exc.detail


def checked(serializer_class, body):
    try:
        return "ok", input_checker(serializer_class)(body)
    except ValidationError as exc:
        return "error", exc.detail


@pytest.mark.parametrize("body", STEP_BODIES)
def test_a_step_body_gets_what_drf_gives(body):
    assert checked(BATCH_EVENT_INPUTS["step.create"], body) == drf(BATCH_EVENT_INPUTS["step.create"], body)
    single = {k: v for k, v in body.items() if k != "run_id"} if isinstance(body, dict) else body
    assert checked(IngestStepCreateInput, single) == drf(IngestStepCreateInput, single)


@pytest.mark.parametrize("kind", list(BATCH_EVENT_INPUTS))
@pytest.mark.parametrize(
    "body",
    [
        {"run_id": RUN_ID, "id": STEP_ID, "agent_name": "bot", "external_id": "", "tool_name": "t", "log_type": "x"},
        {"run_id": RUN_ID, "id": STEP_ID, "agent_name": "bot", "external_id": "e-1", "status": "completed"},
        {"run_id": RUN_ID, "id": STEP_ID, "tool_name": "search", "log_type": "tool_call", "jsonrpc_id": 3},
        {"run_id": RUN_ID, "id": STEP_ID, "output": {"a": 1}, "ended_at": "2026-01-02T03:04:05Z"},
        {"agent_name": None, "status": "nope", "jsonrpc_id": [1]},
    ],
)
def test_every_event_body_gets_what_drf_gives(kind, body):
    assert checked(BATCH_EVENT_INPUTS[kind], body) == drf(BATCH_EVENT_INPUTS[kind], body)


@pytest.mark.parametrize(
    "event", [{"type": "step.create", "body": STEP}, {"type": "nope", "body": {}}, {"type": "run.end"}, None, 3]
)
def test_the_envelope_gets_what_drf_gives(event):
    assert checked(IngestBatchEventInput, event) == drf(IngestBatchEventInput, event)


def test_a_body_that_is_not_an_object_gets_drfs_answer(ingest, project):
    run = run_create(project=project, agent_name="bot")[0]
    for body, message in (("null", "No data provided"), ("[]", "Invalid data. Expected a dictionary, but got list.")):
        response = ingest.post(f"/api/ingest/run/{run.id}/step", body, content_type="application/json")
        assert response.status_code == 400
        assert response.json() == {"detail": f"non_field_errors: {message}", "errors": {"non_field_errors": [message]}}


def test_a_serializer_with_its_own_checks_goes_through_drf():
    class Input(serializers.Serializer):
        name = serializers.CharField()
        when = serializers.DateTimeField(default=datetime(2026, 1, 1, tzinfo=UTC))

        def validate_name(self, value):
            return value.upper()

    assert input_checker(Input)({"name": "a"}) == {"name": "A", "when": datetime(2026, 1, 1, tzinfo=UTC)}


def test_defaults_are_filled_in():
    class Input(serializers.Serializer):
        name = serializers.CharField()
        when = serializers.DateTimeField(default=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=1))

    assert checked(Input, {"name": "a"}) == drf(Input, {"name": "a"})


VALUES = [
    None, True, False, 0, 1, -1, 7, 2**31, 10**12, 1.0, 1.5, "", " ", "x", " x", "x ", "a\x00b", "\ud800", "n" * 256,
    "tool_call", "llm_call", "completed", "Tool_call", STEP_ID, STEP_ID.upper(), "{" + STEP_ID + "}",
    uuid.UUID(STEP_ID).hex, "urn:uuid:" + STEP_ID, "not-a-uuid", "12", "2026-01-02T03:04:05Z",
    [], [1, "a"], {}, {"k": "v", "n": None}, {"deep": {"er": [1]}},
]  # fmt: skip


@pytest.mark.parametrize("kind", list(BATCH_EVENT_INPUTS))
def test_every_quick_check_answers_what_its_field_answers(kind):
    """The quick checks stand in for DRF's fields: for every value they take, DRF takes it too and
    gives the same. If a DRF upgrade changes a field, this says which."""
    from apps.ingest.validation import SLOW, quick_check

    taken = 0
    for name, field in BATCH_EVENT_INPUTS[kind]().fields.items():
        check = quick_check(field)
        for value in VALUES:
            quick = check(value)
            if quick is SLOW:
                continue
            taken += 1
            assert field.run_validation(value) == quick, (kind, name, value)
            assert type(field.run_validation(value)) is type(quick), (kind, name, value)
    assert taken  # the quick path is used at all
