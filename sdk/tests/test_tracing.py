"""The SDK against the real server: what decorated agents and context managers store."""

import asyncio
import datetime as dt
from types import SimpleNamespace

import pytest

from apps.runs.models import Run, RunStatus, RunStep, StepStatus

pytestmark = pytest.mark.django_db(transaction=True)


def openai_response(text: str, prompt_tokens: int, completion_tokens: int) -> dict:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "gpt-4o-mini",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def steps_of(run: Run) -> list[RunStep]:
    return list(run.steps.order_by("step_index"))


def build_agent(client):
    @client.tool_call
    def search(query: str, limit: int = 3) -> list[str]:
        return [f"{query} result {i}" for i in range(limit)]

    @client.llm_call(name="plan")
    def plan(question: str) -> dict:
        hits = search(question, limit=2)
        return openai_response(f"answer from {len(hits)} hits", prompt_tokens=30, completion_tokens=12)

    @client.retrieval
    def recall(topic):
        return {"documents": [topic]}

    @client.trace
    def research(question: str) -> str:
        recall(question)
        return plan(question)["choices"][0]["message"]["content"]

    return research


def test_it_records_a_decorated_agent(make_client):
    client = make_client()
    research = build_agent(client)

    assert research("mars moons") == "answer from 2 hits"
    assert client.flush(timeout=10)

    run = Run.objects.get()
    assert run.agent_name == "research"
    assert run.status == RunStatus.COMPLETED
    assert run.input == {"question": "mars moons"}
    assert run.output == "answer from 2 hits"
    assert run.ended_at is not None
    recall, plan, search = steps_of(run)
    assert [(s.step_index, s.step_type, s.name) for s in (recall, plan, search)] == [
        (0, "retrieval", "recall"),
        (1, "llm_call", "plan"),
        (2, "tool_call", "search"),
    ]
    assert search.parent_id == plan.id
    assert recall.parent_id is None and plan.parent_id is None
    assert search.input == {"query": "mars moons", "limit": 2}
    assert search.output == ["mars moons result 0", "mars moons result 1"]
    assert plan.tokens_used == 42
    assert plan.metadata["model"] == "gpt-4o-mini"
    assert plan.metadata["prompt_tokens"] == 30
    assert all(s.status == StepStatus.COMPLETED and s.latency_ms is not None for s in (recall, plan, search))
    assert run.step_count == 3
    assert run.total_tokens == 42


def test_it_records_an_async_agent(make_client):
    client = make_client()

    @client.tool_call(name="fetch")
    async def fetch(url: str) -> str:
        await asyncio.sleep(0.01)
        return f"page {url}"

    @client.llm_call
    async def summarise(urls: list[str]):
        pages = await asyncio.gather(*(fetch(url) for url in urls))
        usage = SimpleNamespace(input_tokens=100, output_tokens=20)
        return SimpleNamespace(
            model="claude-sonnet-4", usage=usage, content=[{"type": "text", "text": " / ".join(pages)}]
        )

    @client.trace(name="async-researcher", metadata={"version": 2})
    async def agent(urls):
        response = await summarise(urls)
        return response.content[0]["text"]

    assert asyncio.run(agent(["a", "b"])) == "page a / page b"
    assert client.flush(timeout=10)

    run = Run.objects.get()
    assert run.agent_name == "async-researcher"
    assert run.metadata == {"version": 2}
    assert run.status == RunStatus.COMPLETED
    summarise_step, *fetches = steps_of(run)
    assert summarise_step.name == "summarise"
    assert summarise_step.tokens_used == 120
    assert summarise_step.metadata["model"] == "claude-sonnet-4"
    assert sorted(step.output for step in fetches) == ["page a", "page b"]
    assert all(step.parent_id == summarise_step.id and step.step_type == "tool_call" for step in fetches)


def test_it_records_an_exception_and_reraises_it(make_client):
    client = make_client()

    @client.tool_call
    def divide(a: float, b: float) -> float:
        return a / b

    @client.trace
    def calculator(expression: str):
        return divide(1, 0)

    with pytest.raises(ZeroDivisionError):
        calculator("1/0")
    assert client.flush(timeout=10)

    run = Run.objects.get()
    assert run.status == RunStatus.FAILED
    assert run.error["type"] == "ZeroDivisionError"
    assert run.error["message"] == "division by zero"
    assert "in divide" in run.error["traceback"]
    (step,) = steps_of(run)
    assert step.status == StepStatus.FAILED
    assert step.error["type"] == "ZeroDivisionError"
    assert step.output is None
    assert run.error_count == 1


def test_it_lets_the_agent_recover_from_a_failing_tool(make_client):
    client = make_client()

    @client.tool_call
    def flaky(attempt: int) -> str:
        if attempt == 0:
            raise TimeoutError("upstream timed out")
        return "ok"

    @client.trace
    def agent():
        for attempt in range(2):
            try:
                return flaky(attempt)
            except TimeoutError:
                continue

    assert agent() == "ok"
    assert client.flush(timeout=10)
    run = Run.objects.get()
    assert run.status == RunStatus.COMPLETED
    assert [(s.status, s.input) for s in steps_of(run)] == [
        (StepStatus.FAILED, {"attempt": 0}),
        (StepStatus.COMPLETED, {"attempt": 1}),
    ]
    assert run.error_count == 1


def test_it_records_runs_and_steps_by_hand(make_client):
    client = make_client()

    with client.run("support-bot", input={"ticket": 7}, metadata={"tier": "gold"}, external_id="ticket-7") as run:
        with run.step("classify", "llm_call", input={"text": "refund"}) as step:
            step.record_usage({"model": "gpt-4o", "usage": {"prompt_tokens": 5, "completion_tokens": 1}})
            step.set_output("refund")
            with run.step("lookup-order", "tool_call", input={"order": 7}) as child:
                child.set_output({"status": "shipped"})
        run.log_step("reply", "custom", input="draft", output="Your refund is on its way", latency_ms=12)
        run.set_output({"reply": "Your refund is on its way"})
    assert client.flush(timeout=10)

    stored = Run.objects.get(pk=run.id)
    assert (stored.agent_name, stored.external_id, stored.metadata) == ("support-bot", "ticket-7", {"tier": "gold"})
    assert stored.output == {"reply": "Your refund is on its way"}
    classify, lookup, reply = steps_of(stored)
    assert (classify.tokens_used, classify.output) == (6, "refund")
    assert lookup.parent_id == classify.id
    assert (reply.latency_ms, reply.output, reply.parent_id) == (12, "Your refund is on its way", None)


def test_it_shows_a_step_running_until_it_ends(make_client):
    client = make_client()

    with client.run("slow-agent") as run, run.step("think", "llm_call", input="hmm") as step:
        assert client.flush(timeout=10)
        live = RunStep.objects.get(pk=step.id)
        assert live.status == StepStatus.RUNNING
        assert Run.objects.get(pk=run.id).status == RunStatus.RUNNING
        step.set_output("done")
    assert client.flush(timeout=10)

    finished = RunStep.objects.get(pk=step.id)
    assert finished.status == StepStatus.COMPLETED
    assert finished.output == "done"
    assert Run.objects.get(pk=run.id).status == RunStatus.COMPLETED


def test_it_starts_a_run_for_a_step_called_outside_any(make_client):
    client = make_client()

    @client.tool_call("lonely-tool")
    def lonely(x):
        return x * 2

    assert lonely(21) == 42
    assert client.flush(timeout=10)
    run = Run.objects.get()
    assert (run.agent_name, run.status, run.output) == ("lonely-tool", RunStatus.COMPLETED, 42)
    (step,) = steps_of(run)
    assert (step.name, step.step_type, step.output) == ("lonely-tool", "tool_call", 42)


def test_it_nests_a_traced_function_as_a_step(make_client):
    client = make_client()

    @client.step(type="retrieval")
    def fetch_docs(topic):
        return [topic]

    @client.step
    def helper(topic):
        return fetch_docs(topic)

    @client.trace("inner-agent")
    def inner(topic):
        return helper(topic)

    @client.trace
    def outer():
        return inner("venus")

    assert outer() == ["venus"]
    assert client.flush(timeout=10)
    run = Run.objects.get()
    assert run.agent_name == "outer"
    inner_step, helper_step, fetch_step = steps_of(run)
    assert (inner_step.name, inner_step.step_type) == ("inner-agent", "custom")
    assert helper_step.parent_id == inner_step.id
    assert (fetch_step.step_type, fetch_step.parent_id) == ("retrieval", helper_step.id)


def test_it_caps_large_and_odd_values(make_client):
    client = make_client(max_field_size=1000)

    class Opaque:
        def __repr__(self):
            return "<Opaque>"

    @client.tool_call
    def tool(other, blob):
        return {"nan": float("nan"), "set": {1}, "bytes": b"abc"}

    @client.trace
    def agent():
        return tool(Opaque(), "x" * 5000)

    agent()
    assert client.flush(timeout=10)
    (step,) = RunStep.objects.all()
    assert len(step.input["blob"]) < 1100
    assert "more characters" in step.input["blob"]
    assert step.input["other"] == "<Opaque>"
    assert step.output == {"nan": "nan", "set": [1], "bytes": "<3 bytes>"}


def test_it_records_mcp_tools_and_calls(make_client):
    from apps.mcp.models import McpLog, McpTool

    client = make_client()
    client.mcp_tool("search_docs", description="Full-text search", input_schema={"type": "object"}, server_name="docs")
    with client.run("mcp-agent") as run:
        client.mcp_log("search_docs", request={"q": "mars"}, response={"hits": 2}, latency_ms=42, run_id=run.id)
    assert client.flush(timeout=10)

    tool = McpTool.objects.get()
    assert (tool.tool_name, tool.server_name, tool.input_schema) == ("search_docs", "docs", {"type": "object"})
    log = McpLog.objects.get()
    assert (log.tool_id, str(log.run_id), log.log_type, log.response, log.latency_ms) == (
        tool.id,
        run.id,
        "response",
        {"hits": 2},
        42,
    )


def test_it_logs_a_step_with_its_own_times(make_client):
    client = make_client()
    started = dt.datetime(2026, 3, 1, 12, 0, 0, tzinfo=dt.UTC)

    with client.run("clock") as run:
        run.log_step("batch-job", "tool_call", started_at=started, ended_at=started + dt.timedelta(seconds=2))
        run.log_step("epoch-job", started_at=started.timestamp(), ended_at=started.timestamp() + 0.25)
    assert client.flush(timeout=10)

    datetimes, epochs = steps_of(Run.objects.get())
    assert (datetimes.started_at, datetimes.ended_at, datetimes.latency_ms) == (
        started,
        started + dt.timedelta(seconds=2),
        2000,
    )
    assert (epochs.started_at, epochs.latency_ms) == (started, 250)


def test_it_records_async_context_managers(make_client):
    client = make_client()

    async def agent():
        async with client.run("async-cm", input="go") as run:
            async with run.step("think", "llm_call") as step:
                await asyncio.sleep(0)
                step.set_output("thought")
            run.set_output("done")
        with pytest.raises(RuntimeError):
            async with client.run("async-cm-fails"):
                raise RuntimeError("boom")

    asyncio.run(agent())
    assert client.flush(timeout=10)
    ok, failed = Run.objects.get(agent_name="async-cm"), Run.objects.get(agent_name="async-cm-fails")
    assert (ok.status, ok.output, ok.input) == (RunStatus.COMPLETED, "done", "go")
    assert [(s.name, s.output, s.status) for s in steps_of(ok)] == [("think", "thought", StepStatus.COMPLETED)]
    assert (failed.status, failed.error["message"]) == (RunStatus.FAILED, "boom")
