import re

import pytest

pytestmark = pytest.mark.django_db

INGEST_PATHS = {
    "/api/ingest/run": {"post"},
    "/api/ingest/run/{run_id}": {"patch"},
    "/api/ingest/run/{run_id}/end": {"post"},
    "/api/ingest/run/{run_id}/step": {"post"},
    "/api/ingest/run/{run_id}/step/{step_id}": {"patch"},
    "/api/ingest/mcp/tool": {"post"},
    "/api/ingest/mcp/log": {"post"},
    "/api/ingest/batch": {"post"},
}


def test_the_schema_documents_every_ingest_endpoint(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json()
    for path, methods in INGEST_PATHS.items():
        operations = schema["paths"][path]
        assert set(operations) - {"parameters"} == methods
        for operation in operations.values():
            assert operation["security"] == [{"ApiKey": []}]
            assert "application/json" in operation["requestBody"]["content"]
    batch = schema["paths"]["/api/ingest/batch"]["post"]["responses"]["207"]["content"]["application/json"]
    assert batch["schema"]["$ref"] == "#/components/schemas/IngestBatchOutput"
    step = schema["paths"]["/api/ingest/run/{run_id}/step"]["post"]["responses"]["201"]
    assert step["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/IngestStepCreateOutput"
    assert schema["components"]["securitySchemes"]["ApiKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-Agentscope-Key",
    }


def test_the_pause_poll_is_documented_as_ingest(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operations = schema["paths"]["/api/ingest/run/{run_id}/control"]
    assert set(operations) - {"parameters"} == {"get", "post"}
    for operation in operations.values():
        assert operation["tags"] == ["ingest"] and operation["security"] == [{"ApiKey": []}]
        assert {"200", "401", "404", "429"} <= set(operation["responses"])
    assert operations["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "ControlTimeoutInputRequest"
    )
    actions = schema["components"]["schemas"]["ControlActionEnum"]["enum"]
    assert actions == ["pause", "continue", "skip", "abort"]


def test_the_docs_page_loads_nothing_from_outside(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui-bundle.js" in html
    assert re.findall(r"https?://", html) == []
    # Swagger UI from our static files; its start-up script from the docs view itself (no inline script).
    assert all(url.startswith(("/static/", "/api/docs/?script")) for url in re.findall(r'(?:src|href)="([^"]+)"', html))
