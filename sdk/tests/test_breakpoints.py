"""Breakpoints through the real HTTP path: an SDK-instrumented agent runs in a thread against the
live server, stops on a breakpoint, and a person's decision (the resume API) moves it on."""

import asyncio
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from django.db import OperationalError

import agentscope_sdk
from agentscope_sdk.decorators import _ArgBinder
from apps.breakpoints.models import Breakpoint, BreakpointHit, HitPhase, HitStatus
from apps.breakpoints.services import breakpoint_create
from apps.runs.models import Run, RunStatus, RunStep, StepStatus

pytestmark = pytest.mark.django_db(transaction=True)


def wait_for(predicate, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except OperationalError:  # SQLite's shared in-memory test database, locked by a server write
            value = None
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


class Agent(threading.Thread):
    """Runs `fn(*args)` in a thread, keeping what it returned or raised."""

    def __init__(self, fn, *args):
        super().__init__(daemon=True)
        self.fn, self.args = fn, args
        self.result = self.error = None
        self.start()

    def run(self):
        try:
            self.result = self.fn(*self.args)
        except BaseException as exc:  # Aborted is a BaseException
            self.error = exc

    def outcome(self, timeout: float = 20.0):
        self.join(timeout)
        assert not self.is_alive(), "the agent is still blocked"
        return self.result, self.error


def build_agent(client, calls: list, *, fail: bool = False):
    """A researcher whose `search` tool records the arguments it really receives."""

    @client.tool_call
    def search(query: str, limit: int = 3) -> list[str]:
        calls.append({"query": query, "limit": limit})
        if fail:
            raise ValueError(f"search backend down for {query!r}")
        return [f"{query} #{i}" for i in range(limit)]

    @client.llm_call(name="summarise")
    def summarise(hits: list[str]) -> str:
        return f"{len(hits)} hits: " + ", ".join(hits)

    @client.trace(name="researcher")
    def researcher(question: str) -> str:
        try:
            hits = search(question)
        except ValueError as error:
            return f"recovered from {error}"
        return summarise(hits)

    return researcher


def break_on_search(project, **options):
    options.setdefault("condition_type", "step_type")
    options.setdefault("condition_value", {"step_type": "tool_call"})
    return breakpoint_create(project=project, name="Before search", **options)


def paused_run() -> Run:
    return wait_for(lambda: Run.objects.filter(status=RunStatus.PAUSED).first())


def waiting_hit(run) -> BreakpointHit:
    return wait_for(lambda: BreakpointHit.objects.select_related("step").get(run=run))


def resume(api, run, **decision):
    response = wait_for(lambda: api.post(f"/api/runs/{run.id}/resume", decision, format="json"))
    assert response.status_code == 200, response.content
    return response.json()


def test_a_resume_with_edited_input_reaches_the_tool(make_client, project, api):
    break_on_search(project)
    client, calls = make_client(), []
    agent = Agent(build_agent(client, calls), "mars moons")

    run = paused_run()
    hit = waiting_hit(run)
    assert (hit.status, hit.step.name, hit.step.status) == (HitStatus.WAITING, "search", StepStatus.RUNNING)
    assert hit.step_input == {"query": "mars moons"}
    time.sleep(0.5)
    assert calls == [] and agent.is_alive()  # really stopped before the search

    resume(api, run, action="continue", input={"query": "venus clouds", "limit": 2})
    result, error = agent.outcome()

    assert error is None
    assert calls == [{"query": "venus clouds", "limit": 2}]
    assert result == "2 hits: venus clouds #0, venus clouds #1"
    assert client.flush(timeout=10)
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED
    search = RunStep.objects.get(run=run, name="search")
    assert search.status == StepStatus.COMPLETED
    assert search.input == {"query": "venus clouds", "limit": 2}
    assert search.output == ["venus clouds #0", "venus clouds #1"]
    assert search.metadata["breakpoint"]["original_input"] == {"query": "mars moons"}
    assert search.metadata["breakpoint"]["input_edited"] is True
    assert [s.name for s in run.steps.order_by("step_index")] == ["search", "summarise"]


def test_skip_returns_the_given_output_without_running_the_tool(make_client, project, api):
    break_on_search(project)
    client, calls = make_client(), []
    agent = Agent(build_agent(client, calls), "mars moons")

    resume(api, paused_run(), action="skip", output=["from the cache"])
    result, error = agent.outcome()

    assert (result, error, calls) == ("1 hits: from the cache", None, [])
    assert client.flush(timeout=10)
    search = RunStep.objects.get(name="search")
    assert (search.status, search.output) == (StepStatus.COMPLETED, ["from the cache"])
    assert search.metadata["breakpoint"]["skipped"] is True
    assert Run.objects.get().status == RunStatus.COMPLETED


def test_abort_raises_in_the_agent_and_the_run_ends_failed(make_client, project, api):
    break_on_search(project)
    client, calls = make_client(), []
    agent = Agent(build_agent(client, calls), "mars moons")

    run = paused_run()
    resume(api, run, action="abort")
    result, error = agent.outcome()

    assert isinstance(error, agentscope_sdk.Aborted) and result is None and calls == []
    message = f"Aborted by alice@example.com at breakpoint Before search on step {run.steps.get().step_index}"
    assert error.message == message
    assert client.flush(timeout=10)
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert run.error == {"message": message, "type": "Aborted"}  # the server's, not a traceback
    assert RunStep.objects.get(name="search").status == StepStatus.FAILED
    assert not RunStep.objects.filter(name="summarise").exists()


def test_after_the_maximum_wait_it_goes_on_and_the_hit_says_so(make_client, project):
    break_on_search(project)
    client, calls = make_client(breakpoint_timeout=1), []

    started = time.monotonic()
    result = build_agent(client, calls)("mars moons")

    assert time.monotonic() - started >= 1
    assert result == "3 hits: mars moons #0, mars moons #1, mars moons #2"
    assert calls == [{"query": "mars moons", "limit": 3}]
    assert client.flush(timeout=10)
    hit = BreakpointHit.objects.get()
    assert (hit.status, hit.timed_out, hit.action) == (HitStatus.RESUMED, True, "continue")
    assert hit.waited_ms >= 1000
    assert Run.objects.get().status == RunStatus.COMPLETED


def test_the_timeout_comes_from_the_environment(make_client, monkeypatch):
    monkeypatch.setenv("AGENTSCOPE_BREAKPOINT_TIMEOUT", "2.5")
    assert make_client().breakpoints.max_wait == 2.5
    assert make_client(breakpoint_timeout=7).breakpoints.max_wait == 7


@pytest.mark.parametrize("how", ["env", "option"])
def test_breakpoints_can_be_switched_off_in_the_client(make_client, project, monkeypatch, how):
    break_on_search(project)
    if how == "env":
        monkeypatch.setenv("AGENTSCOPE_BREAKPOINTS", "off")
    client, calls = make_client(breakpoint_timeout=5, **({"breakpoints": False} if how == "option" else {})), []

    started = time.monotonic()
    assert build_agent(client, calls)("mars moons").startswith("3 hits")

    assert time.monotonic() - started < 1
    assert client.flush(timeout=10)
    assert Run.objects.get().status == RunStatus.COMPLETED
    assert not BreakpointHit.objects.exists()


class CountingProxy:
    """Forwards every request to the live server and records (method, path); answers 503 to the
    first `fail_polls` polls of a breakpoint's control."""

    def __init__(self, target: str, *, fail_polls: int = 0):
        self.target, self.fail_polls = target, fail_polls
        self.requests: list[tuple[str, str]] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def forward(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                proxy.requests.append((self.command, self.path.split("?")[0]))
                if "/control" in self.path and self.command == "GET" and proxy.fail_polls > 0:
                    proxy.fail_polls -= 1
                    status, content = 503, b'{"detail": "injected"}'
                else:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                    answer = httpx.request(self.command, target + self.path, content=body, headers=headers, timeout=30)
                    status, content = answer.status_code, answer.content
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = do_PATCH = forward

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def paths(self) -> list[str]:
        return [f"{method} {path}" for method, path in self.requests]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def proxy(live_server):
    proxies = []

    def make(**options) -> CountingProxy:
        proxies.append(CountingProxy(live_server.url, **options))
        return proxies[-1]

    yield make
    for made in proxies:
        made.close()


def test_without_a_breakpoint_that_could_apply_no_step_goes_synchronous(make_client, project, proxy):
    # Breakpoints that can't stop these steps: another step type, another name, another agent.
    breakpoint_create(project=project, condition_type="step_type", condition_value={"step_type": "retrieval"})
    breakpoint_create(
        project=project, condition_type="step_name", condition_value={"pattern": "fetch*", "match": "glob"}
    )
    break_on_search(project, agent_name="another-agent")
    counting = proxy()
    client, calls = make_client(base_url=counting.url), []
    agent = build_agent(client, calls)

    for question in ("mars", "venus", "saturn"):
        assert agent(question).startswith("3 hits")
    assert client.flush(timeout=10)

    assert set(counting.paths()) == {"GET /api/ingest/breakpoints", "POST /api/ingest/batch"}
    assert counting.paths().count("GET /api/ingest/breakpoints") == 1  # cached across runs
    assert RunStep.objects.count() == 6 and not BreakpointHit.objects.exists()


def test_only_the_step_that_could_stop_is_posted_on_its_own(make_client, project, proxy, api):
    break_on_search(project, condition_type="step_name", condition_value={"pattern": "sear*", "match": "glob"})
    counting = proxy()
    client, calls = make_client(base_url=counting.url), []
    agent = Agent(build_agent(client, calls), "mars")

    run = paused_run()
    resume(api, run, action="continue")
    assert agent.outcome() == ("3 hits: mars #0, mars #1, mars #2", None)
    assert client.flush(timeout=10)

    single = [path for path in counting.paths() if "/step" in path]
    assert single == [f"POST /api/ingest/run/{run.id}/step"]
    assert RunStep.objects.get(name="search").status == StepStatus.COMPLETED


def test_it_keeps_polling_through_network_errors(make_client, project, proxy, api):
    break_on_search(project)
    counting = proxy(fail_polls=3)
    client, calls = make_client(base_url=counting.url), []
    agent = Agent(build_agent(client, calls), "mars")

    run = paused_run()
    wait_for(lambda: counting.fail_polls == 0)  # three polls failed with 503
    resume(api, run, action="continue", input={"query": "pluto"})

    assert agent.outcome()[0] == "3 hits: pluto #0, pluto #1, pluto #2"
    assert calls == [{"query": "pluto", "limit": 3}]


def test_a_condition_this_sdk_does_not_know_sends_every_step_to_the_server(make_client, project, proxy):
    # A breakpoint of a type a newer server added (written as that server would store it): this
    # SDK can't judge it, so each step, and a failed step's completion, asks the server.
    Breakpoint.objects.create(project=project, condition_type="on_slow_step", condition_value={"over_ms": 1})
    counting = proxy()
    client, calls = make_client(base_url=counting.url), []

    assert build_agent(client, calls)("mars").startswith("3 hits")
    assert build_agent(client, calls, fail=True)("venus") == "recovered from search backend down for 'venus'"
    assert client.flush(timeout=10)

    # mars: search and summarise posted as they start; venus: search, then its failure.
    assert [method for method, path in counting.requests if "/step" in path] == ["POST", "POST", "POST", "PATCH"]
    assert not BreakpointHit.objects.exists()  # the server, which knows no such condition, let them go on
    assert RunStep.objects.count() == 3


def test_a_custom_breakpoint_stops_only_the_steps_it_matches(make_client, project, api):
    expression = "step.step_type == 'tool_call' && contains(step.input.query, 'secret')"
    breakpoint_create(project=project, condition_type="custom", condition_value={"expression": expression})
    client, calls = make_client(), []
    agent = build_agent(client, calls)

    assert agent("mars").startswith("3 hits")  # posted synchronously, never paused
    paused = Agent(agent, "the secret plans")
    resume(api, paused_run(), action="continue", input={"query": "public plans"})

    assert paused.outcome()[0].startswith("3 hits: public plans")
    assert [call["query"] for call in calls] == ["mars", "public plans"]
    assert client.flush(timeout=10)
    assert BreakpointHit.objects.count() == 1


def test_on_error_pauses_after_the_failure_then_continue_reraises(make_client, project, api):
    breakpoint_create(project=project, name="On error", condition_type="on_error")
    client, calls = make_client(), []
    agent = Agent(build_agent(client, calls, fail=True), "mars")

    run = paused_run()
    hit = waiting_hit(run)
    assert (hit.phase, hit.step.status, hit.step.error["type"]) == (HitPhase.AFTER, StepStatus.FAILED, "ValueError")
    time.sleep(0.3)
    assert agent.is_alive()
    resume(api, run, action="continue")

    assert agent.outcome() == ("recovered from search backend down for 'mars'", None)
    assert client.flush(timeout=10)
    assert Run.objects.get().status == RunStatus.COMPLETED


def test_on_error_abort_raises_aborted_in_the_agent(make_client, project, api):
    breakpoint_create(project=project, name="On error", condition_type="on_error")
    client, calls = make_client(), []
    agent = Agent(build_agent(client, calls, fail=True), "mars")

    resume(api, paused_run(), action="abort")
    result, error = agent.outcome()

    assert result is None
    assert isinstance(error, agentscope_sdk.Aborted)  # not swallowed by the agent's `except ValueError`
    assert isinstance(error.__cause__, ValueError)
    assert client.flush(timeout=10)
    run = Run.objects.get()
    assert run.status == RunStatus.FAILED and run.error["message"] == error.message


def test_an_async_agent_waits_without_blocking_its_event_loop(make_client, project, api):
    break_on_search(project)
    client, calls, ticks = make_client(), [], []

    @client.tool_call
    async def search(query: str) -> str:
        calls.append(query)
        return f"found {query}"

    @client.trace(name="async-researcher")
    async def researcher(question: str) -> str:
        return await search(question)

    async def ticker():
        while True:
            ticks.append(time.monotonic())
            await asyncio.sleep(0.05)

    async def main():
        clock = asyncio.create_task(ticker())
        try:
            return await researcher("mars")
        finally:
            clock.cancel()

    agent = Agent(asyncio.run, main())
    run = paused_run()
    paused_at = len(ticks)
    time.sleep(0.5)
    assert len(ticks) - paused_at >= 5  # the loop ran other tasks during the pause
    resume(api, run, action="continue", input={"query": "venus"})

    assert agent.outcome() == ("found venus", None)
    assert calls == ["venus"]


def test_a_step_context_manager_gets_the_edited_input(make_client, project, api):
    break_on_search(project)
    client = make_client()
    seen = []

    def agent():
        with client.run("manual") as run, run.step("search", "tool_call", input={"query": "mars"}) as step:
            seen.append(step.input)
            step.set_output(["done"])

    worker = Agent(agent)
    resume(api, paused_run(), action="continue", input={"query": "venus"})

    assert worker.outcome() == (None, None)
    assert seen == [{"query": "venus"}]


def test_an_edited_input_maps_back_onto_the_parameters():
    class Tools:
        def search(self, query, *filters, limit=3, **options): ...

    tools, binder = Tools(), _ArgBinder(Tools.search)
    original = binder((tools, "mars", "recent"), {"limit": 1})
    assert original == {"query": "mars", "filters": ["recent"], "limit": 1}

    edited = {"query": "venus", "filters": ["old", "big"], "lang": "fr"}  # limit left as it was
    assert binder.rebind((tools, "mars", "recent"), {"limit": 1}, edited) == (
        (tools, "venus", "old", "big"),
        {"limit": 1, "lang": "fr"},
    )
    one = _ArgBinder(lambda question: None)
    assert one.rebind(("mars?",), {}, "venus?") == (("venus?",), {})
    strict = _ArgBinder(lambda query, limit=3: None)
    assert strict.rebind(("mars",), {}, {"query": "venus", "unknown": 1}) == (("venus",), {})
