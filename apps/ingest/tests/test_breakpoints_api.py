"""`GET /api/ingest/breakpoints`: the enabled breakpoints the SDK checks its steps against."""

import pytest
from rest_framework.test import APIClient

from apps.breakpoints.services import breakpoint_create
from apps.projects.services import api_key_revoke

pytestmark = pytest.mark.django_db


def test_it_lists_the_enabled_breakpoints(ingest, project, bob_project):
    search = breakpoint_create(
        project=project,
        name="before search",
        condition_type="step_name",
        condition_value={"pattern": "search*", "match": "glob"},
        agent_name="support-bot",
    )
    breakpoint_create(project=project, condition_type="on_error", enabled=False)
    breakpoint_create(project=bob_project, condition_type="step_type", condition_value={"step_type": "llm_call"})

    response = ingest.get("/api/ingest/breakpoints")

    assert response.status_code == 200
    assert response.json() == {
        "results": [
            {
                "id": str(search.id),
                "name": "before search",
                "condition_type": "step_name",
                "condition_value": {"pattern": "search*", "match": "glob"},
                "agent_name": "support-bot",
            }
        ]
    }


def test_a_project_without_breakpoints_gets_an_empty_list(ingest):
    assert ingest.get("/api/ingest/breakpoints/").json() == {"results": []}


def test_it_requires_a_key(anon_api, api, ingest, api_key):
    assert anon_api.get("/api/ingest/breakpoints").status_code == 401
    assert api.get("/api/ingest/breakpoints").status_code == 401
    wrong = APIClient()
    wrong.credentials(HTTP_X_AGENTSCOPE_KEY="as_wrong")
    assert wrong.get("/api/ingest/breakpoints").status_code == 401
    api_key_revoke(api_key=api_key[0])
    assert ingest.get("/api/ingest/breakpoints").status_code == 401
