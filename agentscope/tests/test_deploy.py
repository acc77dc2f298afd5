"""The deploy files, kept correct without Docker: compose.yaml against the Compose specification's JSON
schema (vendored in tests/data), and the container entrypoint's commands run here as the image runs them."""

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml
from jsonschema import Draft201909Validator

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = ROOT / "bin" / "agentscope-entrypoint"
SCHEMA = json.loads((Path(__file__).parent / "data" / "compose-spec.json").read_text())


def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def schema_errors(document: dict) -> list[str]:
    validator = Draft201909Validator(SCHEMA)  # the draft its $schema names
    return [f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in validator.iter_errors(document)]


def test_compose_yaml_follows_the_compose_specification():
    assert schema_errors(compose()) == []


def test_the_schema_catches_a_broken_file():
    broken = compose()
    broken["services"]["web"]["healthcheck"]["retries"] = "six"
    broken["services"]["worker"]["restart_policy"] = "always"  # not a service key
    assert len(schema_errors(broken)) == 2


def test_the_stack_has_its_services_checks_and_volumes():
    services = compose()["services"]
    assert set(services) == {"web", "worker", "release", "db", "redis"}
    for name in ("web", "worker", "db", "redis"):
        assert services[name]["healthcheck"]["test"], name
    for name in ("web", "worker"):
        assert services[name]["depends_on"]["release"] == {"condition": "service_completed_successfully"}
        assert services[name]["depends_on"]["db"] == {"condition": "service_healthy"}
        assert services[name]["env_file"] == ".env"
        assert services[name]["environment"]["DATABASE_URL"].startswith("postgres://")
    assert set(compose()["volumes"]) == {"pgdata", "redisdata"}
    assert {"release", "web", "worker"} == {services[name]["command"][0] for name in ("release", "web", "worker")}


def test_every_command_compose_and_the_dockerfile_name_is_one_the_entrypoint_knows():
    script = ENTRYPOINT.read_text()
    for command in ("release", "worker", "web"):
        assert f"\n  {command})" in script or f"\n  {command}|" in script
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "COPY --chmod=755 bin/agentscope-entrypoint /usr/local/bin/agentscope-entrypoint" in dockerfile
    assert 'ENTRYPOINT ["agentscope-entrypoint"]' in dockerfile and 'CMD ["web"]' in dockerfile


# The entrypoint, run as the image runs it: production settings, `python` and `gunicorn` on the PATH.


@pytest.fixture
def environment(tmp_path) -> dict:
    return {
        **{k: v for k, v in os.environ.items() if k not in ("DEBUG", "DATABASE_URL", "DJANGO_SETTINGS_MODULE")},
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "DEBUG": "0",
        "SECRET_KEY": "entrypoint-test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'entrypoint.sqlite3'}",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
        "WEB_CONCURRENCY": "1",
        "PYTHONPATH": str(ROOT),
    }


def entrypoint(*args: str, env: dict, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        ["sh", str(ENTRYPOINT), *args], cwd=ROOT, env=env, start_new_session=True, text=True, **kwargs
    )


def stop(process: subprocess.Popen) -> str:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        out, _ = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, _ = process.communicate()
    return out or ""


def test_release_migrates_a_new_database(environment, tmp_path):
    process = entrypoint("release", env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out, _ = process.communicate(timeout=300)
    assert process.returncode == 0, out
    tables = {
        row[0] for row in sqlite3.connect(tmp_path / "entrypoint.sqlite3").execute("SELECT name FROM sqlite_master")
    }
    assert {"runs", "run_steps", "projects", "django_tasks_database_dbtaskresult"} <= tables


def free_port() -> int:
    for port in range(8500, 8550):
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError("no free port in 8500-8549")


def test_web_serves_with_gunicorn_and_logs_one_json_line_per_request(environment, tmp_path):
    subprocess.run(["sh", str(ENTRYPOINT), "release"], cwd=ROOT, env=environment, check=True, capture_output=True)
    port = free_port()
    log = tmp_path / "web.log"  # a file, not a pipe: a pipe nobody reads would block gunicorn once full
    with log.open("w") as out:
        env = {**environment, "PORT": str(port), "METRICS_TOKEN": "scrape-me"}
        process = entrypoint("web", env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        response = None
        for _ in range(240):  # gunicorn boots slowly on a loaded machine
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/health", headers={"X-Request-ID": "probe-12345678"})
                break
            except httpx.TransportError:
                time.sleep(0.5)
        assert response is not None and response.status_code == 200
        assert response.headers["X-Request-ID"] == "probe-12345678"
        # prometheus-client in multiprocess mode: the scrape reads what the workers wrote to the shared dir
        scrape = httpx.get(
            f"http://127.0.0.1:{port}/metrics", headers={"Authorization": "Bearer scrape-me"}, timeout=60
        )
        assert scrape.status_code == 200
        assert 'agentscope_http_requests_total{method="GET",route="health",status="200"} 1.0' in scrape.text
    finally:
        stop(process)
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    requests = [line for line in lines if line.get("logger") == "agentscope.request"]
    assert [(r["path"], r["status"]) for r in requests] == [("/health", 200), ("/metrics", 200)]
    assert requests[0]["request_id"] == "probe-12345678"
    assert (tmp_path / "metrics").is_dir()


def test_worker_queues_the_daily_prune_and_takes_tasks(environment, tmp_path):
    subprocess.run(["sh", str(ENTRYPOINT), "release"], cwd=ROOT, env=environment, check=True, capture_output=True)
    log = tmp_path / "worker.log"
    with log.open("w") as out:
        process = entrypoint("worker", env=environment, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and "The daily prune runs at" not in log.read_text():
            time.sleep(0.5)
        time.sleep(2)
        assert process.poll() is None, log.read_text()  # then db_worker took over, waiting for tasks
    finally:
        stop(process)
    assert "03:00 UTC" in log.read_text()
    queued = sqlite3.connect(tmp_path / "entrypoint.sqlite3").execute(
        "SELECT task_path, status FROM django_tasks_database_dbtaskresult"
    )
    assert queued.fetchall() == [("apps.runs.tasks.prune_daily", "READY")]


@pytest.mark.skipif(shutil.which("sh") is None, reason="needs a POSIX shell")
def test_any_other_command_runs_as_given(environment):
    result = subprocess.run(["sh", str(ENTRYPOINT), "python", "-c", "print('as given')"], cwd=ROOT, env=environment,
                            capture_output=True, text=True, check=True)  # fmt: skip
    assert result.stdout.strip() == "as given"
