"""The demo agent (examples/research_agent.py) against the real server, in process and through
`make demo`."""

import functools
import importlib.util
import os
import subprocess
import sys
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

import agentscope_sdk
from apps.runs.models import Run, RunStatus, RunStep, StepStatus

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "research_agent.py"


@pytest.fixture
def demo():
    spec = importlib.util.spec_from_file_location("research_agent", DEMO)
    module = importlib.util.module_from_spec(spec)
    sys.modules["research_agent"] = module  # its dataclass looks itself up there
    spec.loader.exec_module(module)
    yield module
    agentscope_sdk.get_client().close()
    del sys.modules["research_agent"]


def make_demo(port: int, **env: str) -> tuple[subprocess.CompletedProcess, float]:
    """`make demo PORT=port` with this interpreter's environment standing for the installed venv."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("AGENTSCOPE_")} | env
    command = ["make", "-s", "-o", f"{sys.prefix}/bin/.installed", "demo", f"PORT={port}", f"VENV={sys.prefix}"]
    started = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, env=environ, capture_output=True, text=True, timeout=120)
    return done, time.monotonic() - started


def test_make_demo_sends_a_dozen_varied_runs_to_the_port(live_server, api_key):
    port = urlsplit(live_server.url).port

    done, _ = make_demo(port, AGENTSCOPE_API_KEY=api_key[1])

    assert done.returncode == 0, done.stderr
    assert f"Sending 12 runs to http://127.0.0.1:{port}" in done.stdout
    runs = Run.objects.all()
    assert runs.count() == 12
    events = 2 * (runs.count() + RunStep.objects.count())  # each created, then ended
    assert f"AgentScope: all {events} events were delivered to http://127.0.0.1:{port}." in done.stdout
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


@pytest.mark.parametrize("base_url_wins", [False, True], ids=["PORT", "AGENTSCOPE_BASE_URL"])
def test_make_demo_against_a_closed_port_fails_fast_saying_how_to_start_the_server(free_port, base_url_wins):
    env = {"AGENTSCOPE_API_KEY": "as_x"}
    if base_url_wins:
        env["AGENTSCOPE_BASE_URL"] = f"http://127.0.0.1:{free_port}"

    done, seconds = make_demo(1 if base_url_wins else free_port, **env)

    assert done.returncode != 0
    assert seconds < 5
    assert f"No server answers at http://127.0.0.1:{free_port} (ConnectError" in done.stderr
    assert f"Start it with `make run PORT={free_port}`" in done.stderr
    assert "Sending" not in done.stdout


def test_it_needs_a_key(demo, live_server, capsys):
    assert demo.main(["--runs", "1", "--base-url", live_server.url, "--api-key", ""]) == 2

    err = capsys.readouterr().err
    assert "No API key: set AGENTSCOPE_API_KEY" in err
    assert f"Create a key at {live_server.url}/settings" in err
    assert not Run.objects.exists()


def test_it_says_how_to_get_a_key_the_server_accepts(demo, live_server, capsys):
    assert demo.main(["--runs", "1", "--base-url", live_server.url, "--api-key", "as_revoked-or-wrong"]) == 2

    err = capsys.readouterr().err
    assert f"The server at {live_server.url} refused the API key (HTTP 401" in err
    assert f"Create a key at {live_server.url}/settings" in err


def test_it_tells_something_else_on_the_port_from_agentscope(demo, tmp_path, capsys):
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    other = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{other.server_address[1]}"
    try:
        assert demo.main(["--runs", "1", "--base-url", url, "--api-key", "as_x"]) == 2
    finally:
        other.shutdown()
        other.server_close()

    err = capsys.readouterr().err
    assert f"The server at {url} is not ready: GET /health answered HTTP 404" in err
    assert "Is it AgentScope?" in err


def test_events_the_server_did_not_take_make_the_demo_fail_and_say_so(demo, faulty_proxy, api_key, capsys):
    proxy = faulty_proxy(fail_after=1, status=400)  # the key check's empty batch passes; no batch after it

    assert demo.main(["--runs", "1", "--base-url", proxy.url, "--api-key", api_key[1]]) == 1

    out, err = capsys.readouterr()
    assert f"AgentScope: 14 of 14 events were NOT delivered to {proxy.url} (14 refused by the server)." in out
    assert "Last problem: HTTP 400" in out
    assert "Some runs are missing or incomplete on the server" in err
    assert not Run.objects.exists()
