"""The sender against the real server: outages, exit, a full queue, failing and refusing servers."""

import logging
import os
import subprocess
import sys
import textwrap
import threading
import time

import pytest
from pytest_django.live_server_helper import LiveServer

from agentscope_sdk import Client
from apps.runs.models import Run, RunStatus, RunStep

pytestmark = pytest.mark.django_db(transaction=True)


def record_one_run(client: Client, name: str = "calc", steps: int = 3) -> str:
    @client.tool_call
    def add(a: int, b: int) -> int:
        return a + b

    @client.trace(name=name)
    def agent() -> int:
        total = 0
        for i in range(steps):
            total = add(total, i)
        return total

    agent()
    return name


def wait_for(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_it_loses_nothing_while_the_server_is_down(make_client, free_port, caplog):
    client = make_client(base_url=f"http://127.0.0.1:{free_port}")
    caplog.set_level(logging.INFO, logger="agentscope_sdk")
    record_one_run(client, steps=5)
    assert wait_for(lambda: "retry 1" in caplog.text), "the sender should have tried and failed"

    before = set(threading.enumerate())
    server = LiveServer(f"127.0.0.1:{free_port}")
    try:
        assert client.flush(timeout=30)
    finally:
        # The server's request threads share the test's database connection: let them end first.
        client.close(timeout=5)
        wait_for(lambda: not [t for t in set(threading.enumerate()) - before if "process_request" in t.name])
        server.stop()

    run = Run.objects.get()
    assert run.status == RunStatus.COMPLETED
    assert run.output == 10
    assert list(run.steps.order_by("step_index").values_list("output", flat=True)) == [0, 1, 3, 6, 10]
    assert run.step_count == 5
    assert client.stats()["sent"] > 0 and client.stats()["failed"] == 0


def test_it_flushes_at_exit(live_server, api_key):
    script = textwrap.dedent(
        """
        import agentscope_sdk as agentscope

        @agentscope.tool_call
        def add(a, b):
            return a + b

        @agentscope.trace(name="exit-agent")
        def agent():
            return add(add(1, 2), 3)

        print(agent())
        """
    )
    env = {**os.environ, "AGENTSCOPE_API_KEY": api_key[1], "AGENTSCOPE_BASE_URL": live_server.url}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "6"
    assert "NOT delivered" not in done.stderr
    run = Run.objects.get(agent_name="exit-agent")
    assert run.status == RunStatus.COMPLETED
    assert sorted(run.steps.values_list("output", flat=True)) == [3, 6]


def test_it_keeps_sending_in_a_forked_child(live_server, api_key):
    script = textwrap.dedent(
        """
        import os
        import agentscope_sdk as agentscope

        with agentscope.run("parent-before-fork"):
            pass
        pid = os.fork()
        if pid == 0:
            with agentscope.run("child"):
                pass
        else:
            os.waitpid(pid, 0)
            with agentscope.run("parent-after-fork"):
                pass
        """
    )
    env = {**os.environ, "AGENTSCOPE_API_KEY": api_key[1], "AGENTSCOPE_BASE_URL": live_server.url}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)

    assert done.returncode == 0, done.stderr
    names = sorted(Run.objects.values_list("agent_name", flat=True))
    assert names == ["child", "parent-after-fork", "parent-before-fork"]
    assert set(Run.objects.values_list("status", flat=True)) == {RunStatus.COMPLETED}


def test_it_drops_the_oldest_events_past_the_bound(make_client):
    client = make_client(flush_interval=60, batch_size=1000, max_queue_size=6)

    with pytest.warns(RuntimeWarning, match="dropping the oldest"):
        for i in range(5):
            with client.run(f"agent-{i}"):
                pass

    assert client.stats()["dropped"] == 4
    assert client.flush(timeout=10)
    assert sorted(Run.objects.values_list("agent_name", flat=True)) == ["agent-2", "agent-3", "agent-4"]
    assert set(Run.objects.values_list("status", flat=True)) == {RunStatus.COMPLETED}


def test_it_never_raises_into_the_agent_when_the_server_fails(make_client, faulty_proxy, caplog):
    proxy = faulty_proxy(fail=None, status=500)
    client = make_client(base_url=proxy.url, max_retries=2)

    record_one_run(client)
    assert client.flush(timeout=20)

    assert proxy.answers == [500, 500, 500]
    assert proxy.times[1] - proxy.times[0] >= 0.25  # exponential backoff with jitter: 0.25-0.5s,
    assert proxy.times[2] - proxy.times[1] >= 0.5  # then 0.5-1s
    assert client.stats()["failed"] > 0
    assert "giving up" in caplog.text
    assert not Run.objects.exists()


def test_it_never_raises_into_the_agent_when_the_server_is_unreachable(make_client, free_port):
    client = make_client(base_url=f"http://127.0.0.1:{free_port}", max_retries=1)

    assert record_one_run(client) == "calc"
    assert client.flush(timeout=20)
    assert client.stats()["failed"] > 0


def test_it_retries_server_errors_and_delivers_exactly_once(make_client, faulty_proxy):
    proxy = faulty_proxy(fail=2, status=503)
    client = make_client(base_url=proxy.url, flush_interval=60)

    record_one_run(client, steps=4)
    assert client.flush(timeout=30)

    assert proxy.answers == [503, 503, 207]
    assert proxy.times[1] - proxy.times[0] >= 0.2  # a backoff, not a hot loop
    assert Run.objects.count() == 1
    assert RunStep.objects.count() == 4
    client.close()
    assert client.summary() == f"AgentScope: all 10 events were delivered to {proxy.url}."


def test_it_honours_retry_after(make_client, faulty_proxy):
    proxy = faulty_proxy(fail=1, status=429, headers={"Retry-After": "1"})
    client = make_client(base_url=proxy.url, flush_interval=60)

    record_one_run(client)
    assert client.flush(timeout=30)

    assert proxy.answers == [429, 207]
    assert proxy.times[1] - proxy.times[0] >= 1.0
    assert Run.objects.get().status == RunStatus.COMPLETED


def test_it_logs_refused_events_without_retrying_them(make_client, faulty_proxy, caplog):
    proxy = faulty_proxy()
    client = make_client(base_url=proxy.url, flush_interval=60)

    never_started = client.run("ghost")
    never_started.log_step("orphan", output=1)
    with client.run("real") as run:
        run.log_step("fine", output=2)
    assert client.flush(timeout=10)

    assert proxy.answers == [207]
    assert "refused a step.create event" in caplog.text
    assert client.stats()["failed"] == 1
    assert list(RunStep.objects.values_list("name", flat=True)) == ["fine"]


def test_it_does_not_retry_a_refused_key(make_client, faulty_proxy, caplog):
    proxy = faulty_proxy()
    client = make_client(base_url=proxy.url, api_key="as_not-a-real-key", flush_interval=60)

    record_one_run(client)
    assert client.flush(timeout=10)

    assert proxy.answers == [401]
    assert "HTTP 401" in caplog.text
    assert not Run.objects.exists()


@pytest.mark.parametrize("batch_size", [100, 2], ids=["all in flight", "some still queued at close"])
def test_events_still_being_retried_are_counted_until_they_are_given_up(make_client, faulty_proxy, batch_size):
    proxy = faulty_proxy(fail=None, status=503)
    client = make_client(base_url=proxy.url, batch_size=batch_size)
    record_one_run(client)  # a run, three steps: eight events

    assert not client.flush(timeout=0.3)
    assert client.stats() == {"sent": 0, "refused": 0, "lost": 0, "failed": 0, "dropped": 0, "queued": 8}

    client.close(timeout=0.5)
    assert client.stats() == {"sent": 0, "refused": 0, "lost": 8, "failed": 8, "dropped": 0, "queued": 0}
    assert client.summary().startswith(f"AgentScope: 8 of 8 events were NOT delivered to {proxy.url} (8 given up).")
    assert "HTTP 503" in client.summary()


def test_at_exit_it_says_plainly_what_was_not_delivered(free_port):
    script = textwrap.dedent(
        f"""
        import agentscope_sdk as agentscope

        agentscope.configure(api_key="as_x", base_url="http://127.0.0.1:{free_port}", shutdown_timeout=1)

        @agentscope.trace(name="unheard")
        def agent():
            return 1

        print(agent())
        """
    )
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)

    assert done.returncode == 0 and done.stdout.strip() == "1"
    assert time.monotonic() - started < 10
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(
        f"AgentScope: 2 of 2 events were NOT delivered to http://127.0.0.1:{free_port} (2 given up)."
    )
    assert "ConnectError" in last
