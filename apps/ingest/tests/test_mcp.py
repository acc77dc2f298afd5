import uuid

import pytest

from apps.mcp.models import McpLog, McpTool

pytestmark = pytest.mark.django_db

TOOLS, LOGS = "/api/ingest/mcp/tool", "/api/ingest/mcp/log"


def test_it_registers_a_tool_then_updates_it(ingest, project):
    body = {
        "tool_name": "search",
        "description": "Web search",
        "input_schema": {"type": "object"},
        "server_name": "web",
    }
    created = ingest.post(TOOLS, body, format="json")
    assert created.status_code == 201
    assert created.json()["project_id"] == str(project.id)
    updated = ingest.post(TOOLS, {"tool_name": "search", "description": "Better search"}, format="json")
    assert updated.status_code == 200
    assert updated.json()["id"] == created.json()["id"]
    tool = McpTool.objects.get()
    assert (tool.description, tool.input_schema, tool.server_name) == ("Better search", {"type": "object"}, "web")


def test_the_same_tool_name_in_two_projects_is_two_tools(ingest, bob_ingest):
    assert ingest.post(TOOLS, {"tool_name": "search"}, format="json").status_code == 201
    assert bob_ingest.post(TOOLS, {"tool_name": "search"}, format="json").status_code == 201


def test_a_tool_name_is_required(ingest):
    response = ingest.post(TOOLS, {"description": "x"}, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["tool_name"]


def test_it_logs_a_call_creating_the_tool(ingest, project, run):
    body = {
        "tool_name": "fetch",
        "log_type": "response",
        "request": {"url": "u"},
        "response": {"ok": 1},
        "latency_ms": 12,
    }
    response = ingest.post(LOGS, {**body, "run_id": str(run.id)}, format="json")
    assert response.status_code == 201
    log = McpLog.objects.get(pk=response.json()["id"])
    assert (log.project, log.run, log.tool.tool_name, log.tool.project) == (project, run, "fetch", project)
    assert (log.request, log.response, log.latency_ms) == ({"url": "u"}, {"ok": 1}, 12)
    assert ingest.post(LOGS, body, format="json").status_code == 201
    assert McpTool.objects.count() == 1


def test_it_logs_a_call_by_tool_id(ingest, project):
    tool = McpTool.objects.create(project=project, tool_name="search")
    response = ingest.post(LOGS, {"tool_id": str(tool.id), "log_type": "error", "error": "timeout"}, format="json")
    assert response.status_code == 201
    assert McpLog.objects.get().tool == tool


def test_it_checks_ownership(ingest, bob_project, bob_run):
    bobs_tool = McpTool.objects.create(project=bob_project, tool_name="secret")
    for body in ({"tool_id": str(bobs_tool.id)}, {"tool_id": str(uuid.uuid4())}, {"run_id": str(bob_run.id)}):
        response = ingest.post(LOGS, {"tool_name": "x", "log_type": "call", **body}, format="json")
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found.", "errors": {}}
    assert not McpLog.objects.exists()


def test_a_bad_log_type_is_400(ingest):
    response = ingest.post(LOGS, {"tool_name": "x", "log_type": "shout"}, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["log_type"]
