import uuid

import pytest
from rest_framework.test import APIClient

from apps.projects.services import api_key_revoke
from apps.runs.models import Run

pytestmark = pytest.mark.django_db

ANY = uuid.uuid4()
ENDPOINTS = [
    ("post", "/api/ingest/run"),
    ("patch", f"/api/ingest/run/{ANY}"),
    ("post", f"/api/ingest/run/{ANY}/end"),
    ("post", f"/api/ingest/run/{ANY}/step"),
    ("patch", f"/api/ingest/run/{ANY}/step/{ANY}"),
    ("post", "/api/ingest/mcp/tool"),
    ("post", "/api/ingest/mcp/log"),
    ("post", "/api/ingest/batch"),
]


def call(client, method, url):
    return getattr(client, method)(url, {"agent_name": "x"}, format="json")


@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
def test_it_requires_a_key(anon_api, method, url):
    response = call(anon_api, method, url)
    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided.", "errors": {}}
    assert response["WWW-Authenticate"] == "X-Agentscope-Key"


@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
def test_a_jwt_is_not_a_key(api, method, url):
    assert call(api, method, url).status_code == 401


@pytest.mark.parametrize("raw", ["as_wrong", "", "Bearer as_x"])
def test_a_bad_key_is_401(raw, project):
    client = APIClient()
    client.credentials(HTTP_X_AGENTSCOPE_KEY=raw)
    assert call(client, "post", "/api/ingest/run").status_code == 401
    assert not Run.objects.exists()


def test_a_revoked_key_is_401(ingest, api_key):
    api_key_revoke(api_key=api_key[0])
    response = call(ingest, "post", "/api/ingest/run")
    assert response.status_code == 401
    assert response.json()["detail"] == "Invalid or revoked API key."
    assert not Run.objects.exists()


def test_the_key_picks_the_project(ingest, bob_ingest, project, bob_project):
    assert call(ingest, "post", "/api/ingest/run").json()["project_id"] == str(project.id)
    assert call(bob_ingest, "post", "/api/ingest/run").json()["project_id"] == str(bob_project.id)
