import pytest

from apps.mcp.services import mcp_log_create, mcp_tool_upsert
from apps.runs.services import run_create

SEARCH_SCHEMA = {
    "type": "object",
    "properties": {
        "query": {"type": "string", "description": "What to look for"},
        "limit": {"type": "integer", "minimum": 1, "default": 5},
    },
    "required": ["query"],
}


@pytest.fixture
def run(project):
    return run_create(project=project, agent_name="support-bot")[0]


@pytest.fixture
def tool(project):
    return mcp_tool_upsert(
        project=project,
        tool_name="search",
        data={"description": "Search the docs", "input_schema": SEARCH_SCHEMA, "server_name": "docs"},
    )[0]


@pytest.fixture
def bob_tool(bob_project):
    return mcp_tool_upsert(project=bob_project, tool_name="secret", data={"description": "Bob's", "server_name": "b"})[
        0
    ]


@pytest.fixture
def log(project, tool, run):
    data = {"tool_id": tool.id, "run_id": run.id, "request": {"query": "mars"}, "response": {"hits": 2}}
    return mcp_log_create(project=project, log_type="response", data={**data, "latency_ms": 40})[0]


@pytest.fixture
def bob_log(bob_project, bob_tool):
    return mcp_log_create(project=bob_project, log_type="error", data={"tool_id": bob_tool.id, "error": "x"})[0]
