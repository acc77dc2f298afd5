"""`agentscope test` against the live server, running the demo agent (examples/research_agent.py)."""

import subprocess
import sys
from pathlib import Path

import pytest

from agentscope_sdk.cli import main
from apps.runs.models import Run, RunStatus
from apps.testing.models import TestRun
from apps.testing.services import test_create

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]
AGENT = "examples.research_agent:research"
QUESTION = "Which planet is the largest in the Solar System?"


def make_test(project, name, assertions, *, input=None, agent_name="research-assistant", **config):
    config = {"target": {"agent_name": agent_name}, "input": input or {"question": QUESTION}, **config}
    return test_create(project=project, name=name, test_type="assertion", config={**config, "assertions": assertions})


@pytest.fixture
def passing(project):
    return make_test(
        project,
        "finds the largest planet",
        [
            {"path": "output", "op": "contains", "value": "Jupiter"},
            {"op": "step_called", "step_type": "retrieval", "name": "search_corpus", "min": 1},
            {"op": "no_errors"},
        ],
    )


@pytest.fixture
def failing(project):
    return make_test(project, "names the wrong planet", [{"path": "output", "op": "contains", "value": "Saturn"}])


def agentscope_test(live_server, api_key, *options: str, agent: str = AGENT) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "agentscope_sdk.cli", "test", "--agent", agent, "--base-url", live_server.url]
    return subprocess.run(
        [*command, "--api-key", api_key[1], "--timeout", "20", *options],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_passing_suite_exits_0(live_server, api_key, project, passing):
    done = agentscope_test(live_server, api_key)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "finds the largest planet PASSED" in done.stdout
    assert "1 passed, 0 failed" in done.stdout
    run = Run.objects.get()
    assert (run.agent_name, run.status) == ("research-assistant", RunStatus.COMPLETED)
    assert run.input == {"question": QUESTION}
    assert "Jupiter" in run.output
    assert run.metadata["agentscope_test"] == {"test_id": str(passing.id), "test_name": passing.name}
    assert TestRun.objects.get(test=passing, run=run).status == "passed"
    # The agent's own decorated steps are the run's steps.
    assert {"research-assistant", "plan", "search_corpus", "answer"} <= set(run.steps.values_list("name", flat=True))


def test_a_failing_test_exits_1_and_says_why(live_server, api_key, project, passing, failing):
    done = agentscope_test(live_server, api_key)

    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert any(line.startswith("finds the largest planet PASSED") for line in lines)
    failed = next(index for index, line in enumerate(lines) if line.startswith("names the wrong planet FAILED"))
    assert lines[failed + 1].strip().startswith('output contains "Saturn": ')
    run = Run.objects.get(metadata__agentscope_test__test_id=str(failing.id))
    assert f"/runs/{run.id}" in done.stdout
    assert "1 passed, 1 failed" in lines[-1]
    assert Run.objects.count() == 2


def test_it_runs_only_the_named_test_with_a_positional_input(live_server, api_key, project, failing):
    tutor = make_test(
        project,
        "multiplies",
        [{"path": "output", "op": "contains", "value": "8766"}],
        input="What is 365.25 * 24?",
        agent_name="math-tutor",
    )
    done = agentscope_test(live_server, api_key, "--test", "multiplies", agent="examples/research_agent.py:tutor")

    assert done.returncode == 0, done.stdout + done.stderr
    assert "multiplies PASSED" in done.stdout and "wrong planet" not in done.stdout
    run = Run.objects.get()
    assert (run.agent_name, run.input) == ("math-tutor", "What is 365.25 * 24?")
    assert TestRun.objects.get(run=run).test == tutor


def test_an_agent_that_raises_is_judged_and_reported(live_server, api_key, project):
    make_test(project, "reads any document", [{"op": "no_errors"}], input={"question": "Summarise document planet-x."})
    done = agentscope_test(live_server, api_key)

    assert done.returncode == 1, done.stdout + done.stderr
    assert "reads any document FAILED" in done.stdout
    assert "the agent raised KeyError: \"no document 'planet-x' in the corpus\"" in done.stdout
    assert Run.objects.get().status == RunStatus.FAILED


# Usage and connection errors exit 2 (in-process: no agent runs).


def test_a_refused_key_exits_2(live_server, passing, capsys):
    code = main(["test", "--agent", "json:dumps", "--base-url", live_server.url, "--api-key", "as_wrong"])
    assert code == 2
    assert "refused the API key (HTTP 401)" in capsys.readouterr().err


def test_an_unreachable_server_exits_2(free_port, capsys):
    code = main(["test", "--agent", "json:dumps", "--base-url", f"http://127.0.0.1:{free_port}", "--api-key", "as_x"])
    assert code == 2
    assert "is unreachable" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("agent", "message"),
    [
        ("examples.research_agent", "must look like module:function"),
        ("no_such_module_here:run", "could not import no_such_module_here"),
        ("json:no_such_function", "json has no no_such_function"),
        ("missing/agent.py:run", "no such file"),
    ],
)
def test_a_bad_agent_exits_2(live_server, api_key, agent, message, capsys):
    code = main(["test", "--agent", agent, "--base-url", live_server.url, "--api-key", api_key[1]])
    assert code == 2
    assert message in capsys.readouterr().err


def test_no_test_to_run_exits_2(live_server, api_key, project, passing, capsys):
    base = ["test", "--agent", "json:dumps", "--base-url", live_server.url, "--api-key", api_key[1]]
    assert main([*base, "--test", "no such test"]) == 2
    assert "has no test named 'no such test'" in capsys.readouterr().err
    assert main([*base, "--project", "Bob's agents"]) == 2
    assert 'the API key belongs to project "Alice\'s agents", not "Bob\'s agents"' in capsys.readouterr().err
    assert not Run.objects.exists()
