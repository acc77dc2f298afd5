"""/metrics (Prometheus, behind METRICS_TOKEN), request ids and the one JSON log line per request."""

import json
import logging
import re

import pytest
from django.test import Client
from django.urls import path
from prometheus_client.parser import text_string_to_metric_families

from apps.core.logs import RequestIdFilter
from apps.runs.models import Run, RunStatus

pytestmark = pytest.mark.django_db
TOKEN = "s3cret-metrics-token"


@pytest.fixture
def scrape(settings):
    settings.METRICS_TOKEN = TOKEN
    client = Client()

    def read() -> dict:
        response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/plain")
        samples = {}
        for family in text_string_to_metric_families(response.content.decode()):
            for sample in family.samples:
                samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
        return samples

    return read


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.mark.parametrize("header", [None, "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x"])
def test_it_refuses_a_wrong_or_missing_token(client, settings, header):
    settings.METRICS_TOKEN = TOKEN
    response = client.get("/metrics", **({"HTTP_AUTHORIZATION": header} if header else {}))
    assert response.status_code == 401
    assert set(response.json()) == {"detail", "errors"}
    assert "agentscope_" not in response.content.decode()


def test_it_is_off_without_a_token(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404


def test_request_counters_and_latency_move_by_route(scrape, client):
    before = scrape()
    for _ in range(3):
        client.get("/health")
    after = scrape()
    assert (
        value(after, "agentscope_http_requests_total", route="health", method="GET", status="200")
        == value(before, "agentscope_http_requests_total", route="health", method="GET", status="200") + 3
    )
    count = "agentscope_http_request_duration_seconds_count"
    assert value(after, count, route="health", method="GET") - value(before, count, route="health", method="GET") == 3


def test_ingest_events_and_spans_accepted_and_refused(scrape, ingest):
    before = scrape()
    run = ingest.post("/api/ingest/run", {"agent_name": "a"}, format="json").json()
    ingest.post(f"/api/ingest/run/{run['id']}/step", {"step_type": "nope"}, format="json")  # refused: 400
    events = [
        {"type": "step.create", "body": {"run_id": run["id"], "step_type": "tool_call", "output": 1}},
        {"type": "step.create", "body": {"run_id": "00000000-0000-0000-0000-000000000000", "step_type": "tool_call"}},
    ]
    assert ingest.post("/api/ingest/batch", {"events": events}, format="json").status_code == 207
    span = {"traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174", "name": "chat",
            "startTimeUnixNano": "1700000000000000000", "endTimeUnixNano": "1700000001000000000"}  # fmt: skip
    body = {"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}
    assert ingest.post("/v1/traces", body, format="json").status_code == 200
    after = scrape()

    def moved(name, outcome):
        return value(after, name, outcome=outcome) - value(before, name, outcome=outcome)

    assert (
        moved("agentscope_ingest_events_total", "accepted"),
        moved("agentscope_ingest_events_total", "refused"),
    ) == (2, 2)
    assert moved("agentscope_ingest_spans_total", "accepted") == 1


def test_paused_runs_and_the_task_queue_are_read_when_scraped(scrape, project):
    Run.objects.create(project=project, status=RunStatus.PAUSED)
    samples = scrape()
    assert value(samples, "agentscope_paused_runs") == 1
    assert ("agentscope_task_queue_depth", ()) in samples
    assert ("agentscope_task_queue_oldest_age_seconds", ()) in samples


def test_throttle_refusals_are_counted(scrape, client):
    before = scrape()
    for _ in range(35):  # past LOGIN_IP_THROTTLE_RATE (30/min)
        client.post("/api/auth/login", {"email": "x@example.com", "password": "nope"}, content_type="application/json")
    after = scrape()
    name = "agentscope_throttle_refusals_total"
    assert value(after, name, route="api/auth/login") - value(before, name, route="api/auth/login") >= 1


def test_every_answer_carries_a_request_id(client):
    first, second = client.get("/health"), client.get("/health")
    assert re.fullmatch(r"[0-9a-f]{32}", first["X-Request-ID"])
    assert first["X-Request-ID"] != second["X-Request-ID"]


def test_a_plausible_incoming_request_id_is_kept_and_a_strange_one_replaced(client):
    assert client.get("/health", HTTP_X_REQUEST_ID="lb-1234abcd")["X-Request-ID"] == "lb-1234abcd"
    assert client.get("/health", HTTP_X_REQUEST_ID="<script>")["X-Request-ID"] != "<script>"


def test_one_json_line_per_request_with_its_id(client, caplog):
    from pythonjsonlogger.json import JsonFormatter

    with caplog.at_level(logging.INFO, logger="agentscope.request"):
        response = client.get("/health")
    records = [r for r in caplog.records if r.name == "agentscope.request"]
    assert len(records) == 1
    RequestIdFilter().filter(records[0])
    line = json.loads(JsonFormatter("%(levelname)s %(name)s %(message)s").format(records[0]))
    assert line["request_id"] == response["X-Request-ID"]
    assert (line["method"], line["route"], line["status"]) == ("GET", "health", 200)
    assert line["duration_ms"] >= 0


def _boom(request):
    raise RuntimeError("boom")


urlpatterns = [path("boom", _boom), path("api/boom", _boom)]  # for the 500 tests (pytest.mark.urls)
handler500 = "apps.core.unavailable.server_error"


@pytest.mark.urls(__name__)
def test_the_500_page_shows_the_request_id(client):
    client.raise_request_exception = False
    response = client.get("/boom")
    assert response.status_code == 500
    assert response["X-Request-ID"] in response.content.decode()


@pytest.mark.urls(__name__)
def test_an_api_500_names_the_request_id_in_the_error_shape(client):
    client.raise_request_exception = False
    response = client.get("/api/boom")
    assert response.status_code == 500
    assert set(response.json()) == {"detail", "errors"}
    assert response["X-Request-ID"] in response.json()["detail"]
