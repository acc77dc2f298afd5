"""The demo agent (examples/research_agent.py) against the real server."""

import importlib.util
import sys
from pathlib import Path

import pytest

import agentscope_sdk
from apps.runs.models import Run, RunStatus, StepStatus

pytestmark = pytest.mark.django_db(transaction=True)
DEMO = Path(__file__).resolve().parents[2] / "examples" / "research_agent.py"


@pytest.fixture
def demo():
    spec = importlib.util.spec_from_file_location("research_agent", DEMO)
    module = importlib.util.module_from_spec(spec)
    sys.modules["research_agent"] = module  # its dataclass looks itself up there
    spec.loader.exec_module(module)
    yield module
    agentscope_sdk.get_client().close()
    del sys.modules["research_agent"]


def test_it_sends_a_dozen_varied_runs(demo, live_server, api_key, capsys):
    assert demo.main(["--runs", "12", "--base-url", live_server.url, "--api-key", api_key[1]]) == 0

    runs = Run.objects.all()
    assert runs.count() == 12
    assert set(runs.values_list("agent_name", flat=True)) == {"research-assistant", "math-tutor", "corpus-indexer"}
    failed = runs.get(status=RunStatus.FAILED)
    assert failed.error["type"] == "KeyError"
    assert runs.get(agent_name="corpus-indexer").step_count == 500
    divide = runs.get(agent_name="math-tutor", input={"question": "What is 10 / 0?"})
    assert divide.status == RunStatus.COMPLETED
    assert divide.steps.get(name="calculator").status == StepStatus.FAILED
    retried = runs.get(input={"question": "What is the orbit of Neptune like?"})
    attempts = retried.steps.filter(name="fetch_orbital_data").order_by("step_index")
    assert [step.status for step in attempts] == [StepStatus.FAILED, StepStatus.COMPLETED]
    assert attempts[0].parent_id == retried.steps.get(name="lookup").id
    assert runs.filter(agent_name="research-assistant", total_tokens__gt=0).count() == 7
    assert "Events sent" in capsys.readouterr().out


def test_it_needs_a_key(demo, monkeypatch, capsys):
    monkeypatch.delenv("AGENTSCOPE_API_KEY", raising=False)
    assert demo.main(["--runs", "1", "--api-key", ""]) == 2
    assert "AGENTSCOPE_API_KEY" in capsys.readouterr().err
