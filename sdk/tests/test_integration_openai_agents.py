"""The OpenAI Agents SDK through its tracing processor and run hooks: a real agent whose Chat
Completions model talks to a small local server answering like the API (no network); recorded by
the live server, stopped at a breakpoint in a thread, moved on by the resume API."""

import pytest
from agents import Agent, OpenAIChatCompletionsModel, Runner, function_tool, set_trace_processors
from openai import AsyncOpenAI
from sdk.tests.test_breakpoints import Agent as Thread
from sdk.tests.test_breakpoints import break_on_search, paused_run, resume, waiting_hit

import agentscope_sdk
from agentscope_sdk.integrations import openai_agents
from apps.ingest.tests.otlp_agents import ANSWER, chat_completions_server
from apps.runs.models import Run, RunStatus, RunStep, StepStatus

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def processors():
    """Only this test's processors: none that exports to OpenAI, none of an earlier test."""
    set_trace_processors([])
    yield
    set_trace_processors([])
    openai_agents._installed.clear()


@pytest.fixture
def base_url():
    with chat_completions_server() as url:
        yield url


def weather_agent(base_url, calls: list):
    @function_tool
    def get_weather(city: str) -> str:
        """The weather of a city."""
        calls.append(city)
        return f"sunny in {city}"

    model = OpenAIChatCompletionsModel(
        model="gpt-4o-mini", openai_client=AsyncOpenAI(base_url=base_url, api_key="sk-local")
    )
    return Agent(name="Weather agent", instructions="Answer in one sentence.", tools=[get_weather], model=model)


def run_agent(client, base_url, calls):
    agent = weather_agent(base_url, calls)
    openai_agents.instrument(agent, client=client)
    return lambda question: Runner.run_sync(agent, question).final_output


def test_a_trace_is_recorded_as_a_run_with_its_spans_as_steps(make_client, base_url):
    client, calls = make_client(), []

    assert run_agent(client, base_url, calls)("Weather in Paris?") == ANSWER

    assert calls == ["Paris"] and client.flush(timeout=10)
    run = Run.objects.get()
    assert (run.agent_name, run.status, run.output) == ("Weather agent", RunStatus.COMPLETED, ANSWER)
    assert run.metadata["integration"] == {
        "framework": "openai-agents",
        "version": "0.25.0",
        "actions": ["continue", "skip", "abort"],
    }
    steps = {step.pk: step for step in run.steps.all()}
    tree = sorted((steps[s.parent_id].name if s.parent_id else "", s.step_type, s.name) for s in steps.values())
    assert tree == [
        ("", "custom", "Weather agent"),
        ("Weather agent", "llm_call", "chat gpt-4o-mini"),
        ("Weather agent", "llm_call", "chat gpt-4o-mini"),
        ("Weather agent", "tool_call", "get_weather"),
    ]
    first = RunStep.objects.filter(step_type="llm_call").order_by("step_index").first()
    assert first.input == [
        {"role": "system", "content": "Answer in one sentence."},
        {"role": "user", "content": "Weather in Paris?"},
    ]
    call = {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}
    assert first.output == [{"role": "assistant", "tool_calls": [call]}]
    assert (first.tokens_used, first.metadata["usage"]) == (
        49,
        {"input_tokens": 40, "output_tokens": 9, "total_tokens": 49},
    )
    tool = RunStep.objects.get(step_type="tool_call")
    assert (tool.input, tool.output, tool.status) == ({"city": "Paris"}, "sunny in Paris", StepStatus.COMPLETED)


def test_a_breakpoint_pauses_the_tool_and_continue_goes_on(make_client, project, api, base_url):
    break_on_search(project)
    client, calls = make_client(), []
    agent = Thread(run_agent(client, base_url, calls), "Weather in Paris?")

    run = paused_run()
    hit = waiting_hit(run)
    assert (hit.step.name, hit.step_input) == ("get_weather", {"city": "Paris"})
    assert calls == [] and agent.is_alive()
    edit = {"action": "continue", "input": {"city": "Oslo"}}
    assert api.post(f"/api/runs/{run.pk}/resume", edit, format="json").status_code == 400  # no hook can edit it
    resume(api, run, action="continue")
    answer, error = agent.outcome()

    assert (answer, error, calls) == (ANSWER, None, ["Paris"])
    assert client.flush(timeout=10)
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED
    tool = RunStep.objects.get(step_type="tool_call")
    assert (tool.status, tool.output) == (StepStatus.COMPLETED, "sunny in Paris")


def test_skip_hands_the_model_the_output_through_the_tools_guardrail(make_client, project, api, base_url):
    break_on_search(project)
    client, calls = make_client(), []
    agent = Thread(run_agent(client, base_url, calls), "Weather in Paris?")

    resume(api, paused_run(), action="skip", output="snow, from the cache")
    answer, error = agent.outcome()

    assert (answer, error, calls) == (ANSWER, None, [])
    assert client.flush(timeout=10)
    second = RunStep.objects.filter(step_type="llm_call").order_by("step_index").last()
    assert second.input[-1] == {"role": "tool", "tool_call_id": "call_1", "content": "snow, from the cache"}


def test_run_hooks_alone_pause_any_agents_tool_for_continue_and_abort(make_client, project, api, base_url):
    break_on_search(project)
    client, calls = make_client(), []
    hooks = openai_agents.instrument(client=client)  # the processor, and hooks for agents made later
    agent = weather_agent(base_url, calls)
    thread = Thread(lambda question: Runner.run_sync(agent, question, hooks=hooks).final_output, "Weather?")

    run = paused_run()
    assert waiting_hit(run).step.metadata["breakpoint_actions"] == ["continue", "abort"]
    assert api.post(f"/api/runs/{run.pk}/resume", {"action": "skip", "output": "x"}, format="json").status_code == 400
    resume(api, run, action="continue")

    assert thread.outcome() == (ANSWER, None) and calls == ["Paris"]


def test_abort_stops_the_agent_and_the_run_ends_failed(make_client, project, api, base_url):
    break_on_search(project)
    client, calls = make_client(), []
    agent = Thread(run_agent(client, base_url, calls), "Weather in Paris?")

    run = paused_run()
    resume(api, run, action="abort")
    _answer, error = agent.outcome()

    assert isinstance(error, agentscope_sdk.Aborted) and calls == []
    assert client.flush(timeout=10)
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and run.error["type"] == "Aborted"
    assert RunStep.objects.get(step_type="tool_call").status == StepStatus.FAILED
