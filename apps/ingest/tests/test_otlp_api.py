import json

import pytest
from django.db import OperationalError, connection
from django.urls import resolve
from google.rpc import code_pb2
from google.rpc.status_pb2 import Status
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from rest_framework.test import APIClient

from apps.accounts.tokens import tokens_for_user
from apps.core.unavailable import unavailable_response
from apps.ingest.tests.otlp_spans import (
    JSON,
    PROTOBUF,
    TRACES,
    agent_trace,
    gzipped,
    json_body,
    post,
    protobuf_body,
    record,
)
from apps.projects.services import api_key_revoke
from apps.runs.models import Run, RunStep

pytestmark = pytest.mark.django_db


@pytest.fixture
def spans():
    return record(agent_trace)


@pytest.fixture
def keyless() -> APIClient:
    return APIClient()


def stored() -> list:
    """Everything a bad request must leave as it was."""
    runs = list(Run.objects.order_by("id").values())
    steps = list(RunStep.objects.order_by("id").values())
    return [runs, steps]


def status_of(response) -> Status:
    if response["Content-Type"] == PROTOBUF:
        return Status.FromString(response.content)
    body = json.loads(response.content)
    return Status(code=body.get("code", 0), message=body.get("message", ""))


def test_it_works_with_protobuf(ingest, project, spans):
    response = post(ingest, protobuf_body(spans))
    assert response.status_code == 200
    assert response["Content-Type"] == PROTOBUF
    answer = ExportTraceServiceResponse.FromString(response.content)
    assert not answer.HasField("partial_success")
    run = Run.objects.get(project=project)
    assert run.step_count == 5 and run.agent_name == "support" and run.status == "completed"


def test_it_works_with_json(ingest, project, spans):
    response = post(ingest, json_body(spans), JSON)
    assert response.status_code == 200
    assert response["Content-Type"] == JSON and response.json() == {}
    assert Run.objects.get(project=project).step_count == 5


@pytest.mark.parametrize("encode,content_type", [(protobuf_body, PROTOBUF), (json_body, JSON)])
def test_gzip_bodies_are_read(ingest, project, spans, encode, content_type):
    response = post(ingest, gzipped(encode(spans)), content_type, HTTP_CONTENT_ENCODING="gzip")
    assert response.status_code == 200
    assert Run.objects.get(project=project).step_count == 5


def test_the_answer_is_in_the_requests_content_type_whatever_accept_says(ingest, spans):
    response = post(ingest, json_body(spans), JSON, HTTP_ACCEPT=PROTOBUF)
    assert response["Content-Type"] == JSON
    response = post(ingest, protobuf_body(spans), PROTOBUF, HTTP_ACCEPT=JSON)
    assert response["Content-Type"] == PROTOBUF


def test_the_trailing_slash_is_optional(ingest, spans):
    response = ingest.generic("POST", TRACES + "/", protobuf_body(spans), content_type=PROTOBUF)
    assert response.status_code == 200


def test_an_empty_export_is_fine(ingest):
    assert post(ingest, b"").status_code == 200
    assert post(ingest, b"{}", JSON).json() == {}
    assert not Run.objects.exists()


# The key ------------------------------------------------------------------------------------------


def test_the_key_can_be_a_bearer_token(keyless, project, api_key, spans):
    response = post(keyless, protobuf_body(spans), HTTP_AUTHORIZATION=f"Bearer {api_key[1]}")
    assert response.status_code == 200
    assert Run.objects.filter(project=project).count() == 1


def test_it_requires_a_key(keyless, spans):
    response = post(keyless, protobuf_body(spans))
    assert response.status_code == 401
    assert status_of(response).code == code_pb2.UNAUTHENTICATED
    assert not Run.objects.exists()


@pytest.mark.parametrize("header", ["HTTP_X_AGENTSCOPE_KEY", "HTTP_AUTHORIZATION"])
def test_a_wrong_key_is_401(keyless, project, spans, header):
    value = "as_wrong" if header == "HTTP_X_AGENTSCOPE_KEY" else "Bearer as_wrong"
    response = post(keyless, json_body(spans), JSON, **{header: value})
    assert response.status_code == 401
    assert response.json() == {"code": code_pb2.UNAUTHENTICATED, "message": "Invalid or revoked API key."}
    assert not Run.objects.exists()


def test_a_jwt_is_not_a_key(keyless, alice, spans):
    token = tokens_for_user(alice)["access"]
    assert post(keyless, protobuf_body(spans), HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401
    assert not Run.objects.exists()


def test_a_revoked_key_is_401(ingest, api_key, spans):
    post(ingest, protobuf_body(spans[:2]))
    before = stored()
    api_key_revoke(api_key=api_key[0])
    response = post(ingest, protobuf_body(spans))
    assert response.status_code == 401
    assert status_of(response).message == "Invalid or revoked API key."
    assert stored() == before


# Bad input: a 4xx in OTLP's shape, and nothing stored changes ----------------------------------------


@pytest.fixture
def earlier(ingest, spans):
    """A trace stored before the bad request: it must come out of it unchanged."""
    assert post(ingest, protobuf_body(spans)).status_code == 200
    return stored()


@pytest.mark.parametrize(
    "body,content_type,headers,status,message",
    [
        (b"\x0a\xff\xff\xff\xff\x0f", PROTOBUF, {}, 400, "Malformed protobuf"),
        (b"not protobuf at all", PROTOBUF, {}, 400, "Malformed protobuf"),
        (gzipped(b"\x0a\x00" * 100)[:-9], PROTOBUF, {"HTTP_CONTENT_ENCODING": "gzip"}, 400, "Malformed gzip body"),
        (b"\x1f\x8b not really", PROTOBUF, {"HTTP_CONTENT_ENCODING": "gzip"}, 400, "Malformed gzip body"),
        (b'{"resourceSpans": [', JSON, {}, 400, "Malformed JSON"),
        (b"[]", JSON, {}, 400, "Malformed OTLP/JSON: the body is not an object."),
        (b'{"resourceSpans": 3}', JSON, {}, 400, "Malformed OTLP/JSON"),
        (b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"startTimeUnixNano": "soon"}]}]}]}', JSON, {}, 400, "Malformed OTLP/JSON"),
        (b"<spans/>", "application/xml", {}, 415, 'Unsupported media type "application/xml"'),
        (b"", "text/plain", {}, 415, "Unsupported media type"),
        (b"x", PROTOBUF, {"HTTP_CONTENT_ENCODING": "br"}, 415, "Content-Encoding 'br' is not supported."),
    ],
)  # fmt: skip
def test_bad_bodies_are_refused_and_change_nothing(ingest, earlier, body, content_type, headers, status, message):
    response = post(ingest, body, content_type, **headers)
    assert response.status_code == status
    assert message in status_of(response).message
    assert status_of(response).code == code_pb2.INVALID_ARGUMENT
    assert stored() == earlier


@pytest.mark.parametrize("bad", ["zz" * 16, "5b8efff798038103", 7, "5b8efff7-9803-8103-d269-b633813fc60c"])
def test_json_with_bad_hex_ids_is_400(ingest, earlier, spans, bad):
    data = json.loads(json_body(spans))
    data["resourceSpans"][0]["scopeSpans"][0]["spans"][-1]["traceId"] = bad
    response = post(ingest, json.dumps(data).encode(), JSON)
    if isinstance(bad, str) and len(bad) == 16:  # hex, but 8 bytes: refused as a span, not as a body
        assert response.status_code == 200
        assert response.json()["partialSuccess"]["rejectedSpans"] == "1"
        assert stored() == earlier  # the other spans were stored already: a re-send changes nothing
        return
    assert response.status_code == 400
    assert "is not a hex string" in status_of(response).message
    assert stored() == earlier


def test_a_body_over_the_limit_is_413(ingest, earlier, spans, settings):
    settings.INGEST_MAX_BODY_BYTES = 1000
    response = post(ingest, protobuf_body(spans * 5))
    assert response.status_code == 413
    assert status_of(response).code == code_pb2.RESOURCE_EXHAUSTED
    assert stored() == earlier


def test_a_gzip_bomb_is_413(ingest, earlier, settings):
    settings.INGEST_MAX_BODY_BYTES = 100_000
    bomb = gzipped(b"\x0a\x00" * 20_000_000)  # 40 MB of empty ResourceSpans, about 40 KB sent
    assert len(bomb) < settings.INGEST_MAX_BODY_BYTES
    response = post(ingest, bomb, HTTP_CONTENT_ENCODING="gzip")
    assert response.status_code == 413
    assert "the limit is 100000 bytes" in status_of(response).message
    assert stored() == earlier


def test_a_span_with_bad_ids_is_refused_alone(ingest, project, spans):
    export = __import__("opentelemetry.exporter.otlp.proto.common.trace_encoder", fromlist=["x"]).encode_spans(spans)
    export.resource_spans[0].scope_spans[0].spans[0].span_id = b"\x01\x02"
    export.resource_spans[0].scope_spans[0].spans[1].trace_id = b"\x00" * 16
    response = post(ingest, export.SerializeToString())
    assert response.status_code == 200
    partial = ExportTraceServiceResponse.FromString(response.content).partial_success
    assert partial.rejected_spans == 2
    assert "span_id must be 8 bytes" in partial.error_message and "trace_id must be 16 bytes" in partial.error_message
    assert Run.objects.get(project=project).step_count == 3


def test_the_wrong_method_is_405(ingest):
    response = ingest.get(TRACES)
    assert response.status_code == 405
    assert status_of(response).code == code_pb2.UNIMPLEMENTED


# Throttled, or the database away: retryable answers, never a 500 ---------------------------------------


def test_it_is_throttled_per_key_with_retry_after(ingest, bob_ingest, spans, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"ingest": "2/min"}}
    assert [post(ingest, protobuf_body(spans)).status_code for _ in range(2)] == [200, 200]
    response = post(ingest, protobuf_body(spans))
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert status_of(response).code == code_pb2.RESOURCE_EXHAUSTED
    assert post(bob_ingest, protobuf_body(spans)).status_code == 200


@pytest.mark.parametrize("content_type", [PROTOBUF, JSON])
def test_the_database_away_is_a_503_in_otlps_shape(rf, content_type):
    """What apps.core.unavailable answers for /v1/traces when the database can't be reached."""
    request = rf.post(TRACES, b"spans", content_type=content_type)
    request.resolver_match = resolve(TRACES)
    response = unavailable_response(request)
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert response["Content-Type"] == content_type
    assert status_of(response).code == code_pb2.UNAVAILABLE


@pytest.mark.skipif(connection.vendor != "postgresql", reason="ends its own PostgreSQL session")
@pytest.mark.django_db(transaction=True)
def test_a_lost_database_connection_is_a_503_not_a_500(ingest, spans):
    with pytest.raises(OperationalError), connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")  # what a database restart does to it
    response = post(ingest, protobuf_body(spans))
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert status_of(response).code == code_pb2.UNAVAILABLE
    connection.close()  # as Django does after a request whose connection broke (the test client doesn't)
    assert post(ingest, protobuf_body(spans)).status_code == 200
