"""`agentscope test --agent module:function` with an agent built on each framework: the command
runs it under the test's run, the integration records into that run, the server's test judges it."""

import pytest
from sdk.tests.test_cli_test import agentscope_test, make_test

from apps.ingest.tests.otlp_agents import ANSWER, chat_completions_server
from apps.runs.models import Run, RunStatus
from apps.testing.models import TestRun

pytestmark = pytest.mark.django_db(transaction=True)

AGENTS = {
    "pydantic-ai": ("examples.integrations.pydantic_ai_weather:answer", "weather-pydantic-ai", "sunny in Paris"),
    "langgraph": ("examples.integrations.langgraph_weather:answer", "weather-langgraph", "forecast for Paris"),
    "openai-agents": ("examples.integrations.openai_agents_weather:answer", "weather-openai-agents", ANSWER),
}


@pytest.mark.parametrize("framework", list(AGENTS))
def test_agentscope_test_runs_an_agent_built_on_the_framework(live_server, api_key, project, framework, monkeypatch):
    agent, name, expected = AGENTS[framework]
    test = make_test(
        project,
        f"{framework} answers",
        [
            {"path": "output", "op": "contains", "value": expected},
            {"op": "step_called", "step_type": "tool_call", "min": 1},
        ],
        input="Weather in Paris?",
        agent_name=name,
    )
    with chat_completions_server() as base_url:
        monkeypatch.setenv("OPENAI_BASE_URL", base_url)
        done = agentscope_test(live_server, api_key, agent=agent)

    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{framework} answers PASSED" in done.stdout
    run = Run.objects.get()
    assert (run.agent_name, run.status) == (name, RunStatus.COMPLETED)
    assert run.metadata["integration"]["framework"] == framework
    assert TestRun.objects.get(test=test, run=run).status == "passed"
