"""A deactivated user can no longer use their projects by any door: session, JWT or their projects' API keys."""

import pytest
from rest_framework.test import APIClient

from apps.accounts.tokens import tokens_for_user
from apps.runs.models import Run

pytestmark = pytest.mark.django_db


@pytest.fixture
def deactivate(alice):
    def run():
        alice.is_active = False
        alice.save(update_fields=["is_active"])

    return run


def key_client(api_key) -> APIClient:
    return APIClient(HTTP_X_AGENTSCOPE_KEY=api_key[1])


def test_the_key_no_longer_ingests(api_key, deactivate):
    assert key_client(api_key).post("/api/ingest/run", {"agent_name": "bot"}, format="json").status_code == 201
    deactivate()
    response = key_client(api_key).post("/api/ingest/run", {"agent_name": "bot"}, format="json")
    assert response.status_code == 401
    assert Run.objects.count() == 1


def test_the_key_no_longer_reads_breakpoints(api_key, deactivate):
    assert key_client(api_key).get("/api/ingest/breakpoints").status_code == 200
    deactivate()
    assert key_client(api_key).get("/api/ingest/breakpoints").status_code == 401


def test_the_jwt_is_refused(alice, project, deactivate):
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {tokens_for_user(alice)['access']}")
    assert client.get("/api/projects").status_code == 200
    deactivate()
    assert client.get("/api/projects").status_code == 401


def test_the_session_is_refused(client_alice, project, deactivate):
    assert client_alice.get("/dashboard").status_code == 200
    assert client_alice.get("/api/projects").status_code == 200
    deactivate()
    assert client_alice.get("/dashboard")["Location"] == "/login?next=/dashboard"
    assert client_alice.get("/api/projects").status_code == 401


def test_a_deactivated_organization_s_keys_no_longer_ingest(api_key, project):
    """The same rule for the organization: deactivate it (the admin) and every key of its projects stops."""
    assert key_client(api_key).post("/api/ingest/run", {"agent_name": "bot"}, format="json").status_code == 201
    project.organization.is_active = False
    project.organization.save(update_fields=["is_active"])
    assert key_client(api_key).post("/api/ingest/run", {"agent_name": "bot"}, format="json").status_code == 401
    assert key_client(api_key).get("/api/ingest/breakpoints").status_code == 401
    assert Run.objects.count() == 1
