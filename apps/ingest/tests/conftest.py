import pytest
from rest_framework.test import APIClient

from apps.projects.services import api_key_create
from apps.runs.services import run_create


@pytest.fixture
def run(project):
    return run_create(project=project, agent_name="support-bot", input={"question": "hi"})[0]


@pytest.fixture
def bob_run(bob_project):
    return run_create(project=bob_project, agent_name="bobs-bot")[0]


@pytest.fixture
def bob_ingest(bob_project) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_X_AGENTSCOPE_KEY=api_key_create(project=bob_project)[1])
    return client
