import io
import json
import uuid
from types import SimpleNamespace

import pytest

from apps.ingest.parsers import IngestJSONParser, PayloadTooLarge, parse_json_text
from apps.mcp.models import McpTool
from apps.runs.models import Run, RunStep

pytestmark = pytest.mark.django_db

RUNS = "/api/ingest/run"
UNSAFE = "a\\u0000b\\ud800c\\udfffd"  # JSON text: a NUL and two lone surrogates
STORED = "a\ufffdb\ufffdc\ufffdd"


def raw_post(client, url, text, content_type="application/json"):
    return client.generic("POST", url, text, content_type=content_type)


def test_a_body_over_the_default_limit_is_413(ingest):
    body = json.dumps({"agent_name": "a", "input": "x" * (5 * 1024 * 1024)})
    response = raw_post(ingest, RUNS, body)
    assert response.status_code == 413
    assert response.json() == {"detail": "Request body too large: the limit is 5242880 bytes.", "errors": {}}
    assert not Run.objects.exists()


def test_the_limit_is_a_setting(ingest, settings):
    settings.INGEST_MAX_BODY_BYTES = 100
    assert raw_post(ingest, RUNS, json.dumps({"agent_name": "a"})).status_code == 201
    assert raw_post(ingest, RUNS, json.dumps({"agent_name": "a" * 101})).status_code == 413
    assert raw_post(ingest, "/api/ingest/batch", json.dumps({"events": [{}] * 30})).status_code == 413


def test_the_body_read_is_bounded_whatever_the_declared_length(settings):
    settings.INGEST_MAX_BODY_BYTES = 100
    request = SimpleNamespace(META={"CONTENT_LENGTH": "10"})
    with pytest.raises(PayloadTooLarge):
        IngestJSONParser().parse(io.BytesIO(b'{"a": "' + b"x" * 200 + b'"}'), parser_context={"request": request})


def test_malformed_json_is_400(ingest):
    response = raw_post(ingest, RUNS, '{"agent_name": ')
    assert response.status_code == 400
    assert response.json()["detail"].startswith("Malformed JSON: Expecting value")
    assert response.json()["errors"] == {}


@pytest.mark.parametrize(
    "text",
    [
        '{"agent_name": "a", "input": NaN}',
        '{"agent_name": "a", "input": -Infinity}',
        '{"agent_name": "a", "input": {"x": 1e400}}',  # a float would read it as infinity
        '{"agent_name": "a", "input": [-2.5e999]}',
    ],
)
def test_non_json_numbers_are_400(ingest, text):
    response = raw_post(ingest, RUNS, text)
    assert response.status_code == 400
    assert response.json()["detail"].startswith("Malformed JSON:")
    assert not Run.objects.exists()


def test_large_but_finite_numbers_are_stored(ingest):
    """(jsonb keeps 1e308 as a numeric: it reads back as an int of the same value.)"""
    response = raw_post(
        ingest, RUNS, '{"agent_name": "a", "input": {"big": 1e308, "int": 123456789012345678901234567890}}'
    )
    assert response.status_code == 201, response.content
    stored = Run.objects.get().input
    assert float(stored["big"]) == 1e308 and stored["int"] == 123456789012345678901234567890


@pytest.mark.parametrize("depth", [150, 100_000])
def test_absurd_nesting_is_400(ingest, depth):
    response = raw_post(ingest, RUNS, '{"agent_name": "a", "input": ' + "[" * depth + "]" * depth + "}")
    assert response.status_code == 400
    assert response.json()["detail"] == "Malformed JSON: nested deeper than 100 levels."


def test_a_non_json_content_type_is_415(ingest):
    assert raw_post(ingest, RUNS, "agent_name=a", "application/x-www-form-urlencoded").status_code == 415


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([{"agent_name": "a"}], "non_field_errors"),
        ({"agent_name": {"x": 1}}, "agent_name"),
        ({"agent_name": "x" * 256}, "agent_name"),
        ({"agent_name": "a", "metadata": [1, 2]}, "metadata"),
        ({"agent_name": "a", "started_at": "yesterday"}, "started_at"),
        ({"agent_name": "a", "started_at": 1700000000}, "started_at"),
        ({"agent_name": "a", "started_at": "0001-01-01T00:00:00+05:00"}, "started_at"),
        ({"agent_name": "a", "id": 5}, "id"),
        ({"agent_name": "a", "id": "run-1"}, "id"),
        ({"agent_name": "a", "status": ["running"]}, "status"),
        ({"agent_name": "a", "external_id": ["x"]}, "external_id"),
    ],
)
def test_a_bad_run_field_is_400_naming_it(ingest, body, field):
    response = ingest.post(RUNS, body, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]
    assert response.json()["detail"].startswith(f"{field}: ")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"step_type": "thinking"}, "step_type"),
        ({"step_type": "custom", "tokens_used": "many"}, "tokens_used"),
        ({"step_type": "custom", "tokens_used": -1}, "tokens_used"),
        ({"step_type": "custom", "tokens_used": 2**40}, "tokens_used"),
        ({"step_type": "custom", "tokens_used": True}, "tokens_used"),
        ({"step_type": "custom", "latency_ms": 1.5}, "latency_ms"),
        ({"step_type": "custom", "step_index": -1}, "step_index"),
        ({"step_type": "custom", "step_index": 2**31}, "step_index"),
        ({"step_type": "custom", "parent_id": "p"}, "parent_id"),
        ({"step_type": "custom", "ended_at": {"t": 1}}, "ended_at"),
        ({"step_type": "custom", "name": "n" * 300}, "name"),
        ({"step_type": "custom", "status": "done"}, "status"),
    ],
)
def test_a_bad_step_field_is_400_naming_it(ingest, run, body, field):
    response = ingest.post(f"{RUNS}/{run.id}/step", body, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]
    run.refresh_from_db()
    assert run.step_count == 0


def test_nul_and_lone_surrogates_are_stored_as_replacement_characters(ingest):
    text = (
        f'{{"agent_name": "{UNSAFE}", "external_id": "{UNSAFE}", "input": {{"{UNSAFE}": ["{UNSAFE}", 1]}},'
        f' "metadata": {{"k": "{UNSAFE}", "emoji": "\\ud83d\\ude00"}}}}'
    )
    response = raw_post(ingest, RUNS, text)
    assert response.status_code == 201
    run = Run.objects.get(pk=response.json()["id"])
    assert (run.agent_name, run.external_id) == (STORED, STORED)
    assert run.input == {STORED: [STORED, 1]}
    assert run.metadata == {"k": STORED, "emoji": "\U0001f600"}
    assert Run.objects.filter(metadata__k=STORED).exists()

    step = f'{{"step_type": "custom", "name": "{UNSAFE}", "output": "{UNSAFE}", "error": {{"m": "{UNSAFE}"}}}}'
    response = raw_post(ingest, f"{RUNS}/{run.id}/step", step)
    assert response.status_code == 201
    stored = RunStep.objects.get(pk=response.json()["id"])
    assert (stored.name, stored.output, stored.error) == (STORED, STORED, {"m": STORED})


def test_unsafe_strings_are_stored_through_the_batch_too(ingest, project):
    run_id = str(uuid.uuid4())
    text = json.dumps(
        {
            "events": [
                {"type": "run.create", "body": {"id": run_id, "agent_name": "UNSAFE"}},
                {
                    "type": "step.create",
                    "body": {"run_id": run_id, "step_type": "custom", "input": {"UNSAFE": "UNSAFE"}},
                },
                {"type": "mcp.tool", "body": {"tool_name": "UNSAFE", "description": "UNSAFE"}},
            ]
        }
    ).replace("UNSAFE", UNSAFE)
    response = raw_post(ingest, "/api/ingest/batch", text)
    assert [r["status"] for r in response.json()["results"]] == [201, 201, 201]
    assert Run.objects.get(pk=run_id).agent_name == STORED
    assert RunStep.objects.get(run_id=run_id).input == {STORED: STORED}
    assert McpTool.objects.get(project=project).description == STORED


def test_bytes_that_are_not_utf8_are_replaced(ingest):
    response = raw_post(ingest, RUNS, b'{"agent_name": "caf\xe9"}')
    assert response.status_code == 201
    assert Run.objects.get().agent_name == "caf\ufffd"


def test_ingest_is_throttled_per_key(ingest, bob_ingest, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"ingest": "2/min"}}
    assert [ingest.post(RUNS, {"agent_name": "a"}, format="json").status_code for _ in range(2)] == [201, 201]
    response = ingest.post(RUNS, {"agent_name": "a"}, format="json")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert response.json()["detail"].startswith("Request was throttled.")
    assert response.json()["errors"] == {}
    assert Run.objects.count() == 2
    assert bob_ingest.post(RUNS, {"agent_name": "b"}, format="json").status_code == 201


@pytest.mark.parametrize("text", ["null", '"run"', "123", "[]", "true", "{}"])
@pytest.mark.parametrize("path", ["", "/{run}", "/{run}/end", "/{run}/step", "/{run}/step/{step}"])
def test_odd_bodies_are_answered_never_a_500(ingest, run, text, path):
    step = RunStep.objects.create(run=run, step_index=0, step_type="custom")
    url = RUNS + path.format(run=run.id, step=step.id)
    response = ingest.generic(
        "PATCH" if path in ("/{run}", "/{run}/step/{step}") else "POST", url, text, content_type="application/json"
    )
    assert response.status_code in (200, 201, 400)
    assert set(response.json()) >= ({"detail", "errors"} if response.status_code == 400 else {"id"})


@pytest.mark.parametrize(
    "events",
    [
        None,
        "x",
        {"a": 1},
        [None],
        [[]],
        [{"type": "run.create", "body": None}],
        [{"type": "run.create", "body": []}],
        [{"type": ["run.create"], "body": {}}],
        [{"type": "step.update", "body": {"run_id": "x", "id": 1}}],
    ],
)
def test_odd_batches_are_answered_never_a_500(ingest, events):
    response = ingest.post("/api/ingest/batch", {"events": events}, format="json")
    assert response.status_code in (207, 400)
    if response.status_code == 207:
        assert [r["status"] for r in response.json()["results"]] == [400]
    else:
        assert list(response.json()["errors"]) == ["events"]


@pytest.mark.parametrize(
    "text",
    [
        '{"a": [1, 2.5, -0.0, 1e-320, 0.1, true, null, "x\\u00e9\\n"], "a": "last key wins"}',
        "[999999999999999999, -999999999999999999, 9223372036854775807, 18446744073709551616]",
        '{"id": 123456789012345678901234567890, "f": 1.2345678901234567890123}',
        '"\\ud83d\\ude00 a pair of surrogates is one character"',
    ],
)
def test_bodies_read_by_orjson_are_what_json_reads(text):
    """orjson reads most bodies; an integer of 19 digits or more goes through json, which keeps it exact."""
    read = parse_json_text(text)
    assert read == json.loads(text)
    assert [type(value) for value in _leaves(read)] == [type(value) for value in _leaves(json.loads(text))]


def _leaves(value):
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]
