"""Wrong API keys are counted per client IP; past the limit the address waits, whatever key it sends."""

import uuid

import pytest
from rest_framework.test import APIClient

from apps.projects.services import api_key_revoke
from apps.runs.models import Run

pytestmark = pytest.mark.django_db

RUNS = "/api/ingest/run"


@pytest.fixture(autouse=True)
def rate(settings):
    # A day-long window: a test never straddles two of them.
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "api_key_failure_ip": "3/day"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}


def post_run(key: str, **extra):
    return APIClient().post(RUNS, {"agent_name": "bot"}, format="json", HTTP_X_AGENTSCOPE_KEY=key, **extra)


def test_wrong_keys_are_refused_then_throttled(api_key):
    answers = [post_run(f"as_guess{n}").status_code for n in range(5)]
    assert answers == [401, 401, 401, 429, 429]


def test_past_the_limit_wrong_keys_wait_and_cost_one_lookup(api_key, django_assert_num_queries):
    for n in range(4):
        post_run(f"as_guess{n}")
    with django_assert_num_queries(1):  # the key's lookup; the store isn't asked again in this window
        response = post_run("as_guess-again")
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 86400
    assert response.json()["detail"].startswith("Request was throttled.")


def test_past_the_limit_the_right_key_still_works(api_key):
    """An agent behind an address that another client fills with wrong keys keeps sending."""
    assert [post_run(f"as_guess{n}").status_code for n in range(4)] == [401, 401, 401, 429]
    assert post_run(api_key[1]).status_code == 201
    assert Run.objects.count() == 1


def test_a_revoked_key_counts_as_a_wrong_one(api_key):
    api_key_revoke(api_key=api_key[0])
    assert [post_run(api_key[1]).status_code for _ in range(4)] == [401, 401, 401, 429]


def test_right_keys_are_never_counted(api_key):
    assert {post_run(api_key[1]).status_code for _ in range(5)} == {201}
    assert post_run("as_guess").status_code == 401


def test_other_addresses_keep_working(api_key):
    for n in range(3):
        post_run(f"as_guess{n}")
    assert post_run(api_key[1], REMOTE_ADDR="10.0.0.2").status_code == 201


def test_a_forged_forwarded_for_changes_nothing(api_key):
    answers = [post_run(f"as_guess{n}", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code for n in range(4)]
    assert answers == [401, 401, 401, 429]


def test_reading_breakpoints_and_polling_count_too(api_key, project):
    client = APIClient(HTTP_X_AGENTSCOPE_KEY="as_guess")
    assert client.get("/api/ingest/breakpoints").status_code == 401
    assert client.get("/api/ingest/tests").status_code == 401
    assert client.get(f"/api/ingest/run/{uuid.uuid4()}/control").status_code == 401
    assert client.get("/api/ingest/breakpoints").status_code == 429
