"""Schemathesis against the app as deployed: gunicorn on a fresh PostgreSQL database (`$CI_DB`_fuzz),
with a JWT for the dashboard API and an API key for ingest (see .ci/schemathesis.toml).

    CI_DB=agentscope .venv/bin/python .ci/fuzz.py [schemathesis run options...]
"""

import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DATABASE = f"{os.environ.get('CI_DB', 'agentscope')}_fuzz"
SERVER = "postgres://postgres@127.0.0.1:5432"
EMAIL = "fuzz@example.com"
OPTIONS = ["--no-control-socket", "--timeout", "60"]


def main(extra: list[str]) -> int:
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_hex(32),
        "DATABASE_URL": f"{SERVER}/{DATABASE}",
        "SECURE_SSL_REDIRECT": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "TASKS_BACKEND": "immediate",
        "LOG_LEVEL": "ERROR",
        # The checks send wrong keys on purpose: past the per-address limit every key would get 429.
        "API_KEY_FAILURE_THROTTLE_RATE": "1000000/min",
        "FUZZ_EMAIL": EMAIL,
        "PYTHONPATH": f"{ROOT / '.ci'}{os.pathsep}{ROOT}",
        "SCHEMATHESIS_HOOKS": "fuzz_hooks",
    }
    database("DROP DATABASE IF EXISTS {} WITH (FORCE)", "CREATE DATABASE {}")
    try:
        run([BIN / "python", "manage.py", "migrate", "--noinput", "-v", "0"], env)
        run([BIN / "python", "manage.py", "collectstatic", "--noinput", "-v", "0"], env)  # as the Dockerfile does
        env.update(credentials(env))
        port = free_port()
        server = subprocess.Popen(
            [
                BIN / "gunicorn",
                "agentscope.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
                *OPTIONS,
            ],
            cwd=ROOT,
            env=env,
        )
        try:
            wait_until_up(f"http://127.0.0.1:{port}/health")
            env.update(seed(f"http://127.0.0.1:{port}", env))
            command = [BIN / "schemathesis", "--config-file", ROOT / ".ci" / "schemathesis.toml", "run"]
            return subprocess.call([*command, f"http://127.0.0.1:{port}/api/schema/", *extra], cwd=ROOT, env=env)
        finally:
            server.terminate()
            server.wait(timeout=30)
    finally:
        database("DROP DATABASE IF EXISTS {} WITH (FORCE)")


def credentials(env: dict) -> dict:
    """A user (their JWT: the dashboard API) and their project's API key (ingest)."""
    code = (
        "from apps.accounts.models import User;"
        "from apps.accounts.tokens import tokens_for_user;"
        "from apps.projects.services import api_key_create, project_create;"
        f"user = User.objects.create_user(email='{EMAIL}', password='{secrets.token_hex(16)}');"
        "key = api_key_create(project=project_create(user=user, name='Fuzzed'), name='fuzz')[1];"
        "print(tokens_for_user(user)['access'], key)"
    )
    out = run([BIN / "python", "manage.py", "shell", "-v", "0", "-c", code], env)
    jwt, key = out.split()[-2:]
    return {"FUZZ_JWT": jwt, "FUZZ_KEY": key}


def seed(url: str, env: dict) -> dict:
    """Something of each kind for the fuzzed GET operations to read (.ci/schemathesis.toml), made
    through the API itself: a run with steps, an MCP tool and call, a test with a verdict, a breakpoint."""
    key = {"X-Agentscope-Key": env["FUZZ_KEY"]}
    jwt = {"Authorization": f"Bearer {env['FUZZ_JWT']}"}
    run, step = "7e5f0e3c-5a43-4b1b-9d0a-6c1f0d2a9b01", "7e5f0e3c-5a43-4b1b-9d0a-6c1f0d2a9b02"
    events = [
        {"type": "run.create", "body": {"id": run, "agent_name": "fuzzed", "input": {"question": "2 + 2?"}}},
        {
            "type": "step.create",
            "body": {
                "run_id": run,
                "id": step,
                "step_type": "llm_call",
                "name": "think",
                "input": {"q": "2 + 2?"},
                "output": {"a": 4},
                "tokens_used": 12,
            },
        },
        {
            "type": "step.create",
            "body": {
                "run_id": run,
                "parent_id": step,
                "step_type": "tool_call",
                "name": "add",
                "input": {"a": 2, "b": 2},
                "error": {"message": "overflow"},
            },
        },
        {"type": "run.end", "body": {"run_id": run, "output": {"answer": "4"}}},
        {"type": "mcp.tool", "body": {"tool_name": "add", "server_name": "calc", "input_schema": {"type": "object"}}},
        {
            "type": "mcp.log",
            "body": {
                "tool_name": "add",
                "run_id": run,
                "log_type": "response",
                "request": {"name": "add", "arguments": {"a": 2}},
                "response": {"sum": 4},
            },
        },
    ]
    with httpx.Client(base_url=url, timeout=30) as http:
        answers = http.post("/api/ingest/batch", json={"events": events}, headers=key).raise_for_status().json()
        assert all(result["status"] in (200, 201) for result in answers["results"]), answers
        project = http.get("/api/projects", headers=jwt).raise_for_status().json()["results"][0]["id"]
        config = {
            "target": {"agent_name": "fuzzed"},
            "assertions": [{"path": "output.answer", "op": "equals", "value": "4"}],
        }
        test = {"project_id": project, "name": "answers 4", "test_type": "assertion", "config": config}
        test = http.post("/api/tests", json=test, headers=jwt).raise_for_status().json()["id"]
        verdict = http.post(f"/api/tests/{test}/run", json={"run_id": run}, headers=jwt).raise_for_status().json()
        condition = {"condition_type": "step_type", "condition_value": {"step_type": "llm_call"}}
        breakpoint = http.post("/api/breakpoints", json={"project_id": project, **condition}, headers=jwt)
        tool = http.get("/api/mcp/tools", headers=jwt).raise_for_status().json()["results"][0]["id"]
        log = http.get("/api/mcp/logs", headers=jwt).raise_for_status().json()["results"][0]["id"]
    ids = {"PROJECT": project, "RUN": run, "TEST": test, "TEST_RUN": verdict["id"], "TOOL": tool, "LOG": log}
    ids["BREAKPOINT"] = breakpoint.raise_for_status().json()["id"]
    return {f"FUZZ_{name}_ID": value for name, value in ids.items()}


def database(*statements: str) -> None:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement.format(DATABASE))


def run(command: list, env: dict) -> str:
    return subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within 60 s")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
