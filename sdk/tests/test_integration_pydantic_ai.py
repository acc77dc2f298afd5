"""pydantic-ai through its capability hooks: a real agent on a FunctionModel (no network), recorded
by the live server, stopped at a breakpoint in a thread, moved on by the resume API."""

import httpx
import pytest
from pydantic_ai import Agent
from pydantic_ai.messages import ModelResponse, TextPart, ToolCallPart, ToolReturnPart
from pydantic_ai.models.function import FunctionModel
from pydantic_ai.usage import RequestUsage
from sdk.tests.test_breakpoints import Agent as Thread
from sdk.tests.test_breakpoints import break_on_search, paused_run, resume, waiting_hit

import agentscope_sdk
from agentscope_sdk.integrations.pydantic_ai import AgentScope, instrument
from apps.breakpoints.models import BreakpointHit, HitPhase, HitStatus
from apps.breakpoints.services import breakpoint_create
from apps.runs.models import Run, RunStatus, RunStep, StepStatus

pytestmark = pytest.mark.django_db(transaction=True)


def weather_model(messages, info):
    """Asks for the weather in Paris, then answers with what the tool said (or the error)."""
    for part in messages[-1].parts:
        if isinstance(part, ToolReturnPart):
            return ModelResponse(
                parts=[TextPart(f"The forecast: {part.content}")], usage=RequestUsage(input_tokens=30, output_tokens=7)
            )
        if getattr(part, "part_kind", "") == "retry-prompt":
            return ModelResponse(parts=[TextPart("No forecast today.")])
    call = ToolCallPart("search", {"query": "Paris"}, tool_call_id="call_1")
    return ModelResponse(parts=[call], usage=RequestUsage(input_tokens=20, output_tokens=5))


def weather_agent(client, calls: list, *, fail: bool = False, wrap: bool = False):
    agent = Agent(
        FunctionModel(weather_model),
        name="weatherbot",
        instructions="Answer with the forecast.",
        capabilities=[] if wrap else [AgentScope(client)],
    )

    @agent.tool_plain
    def search(query: str) -> str:
        calls.append(query)
        if fail:
            raise ValueError(f"no forecast for {query}")
        return f"sunny in {query}"

    return instrument(agent, client=client) if wrap else agent


@pytest.mark.parametrize("wrap", [False, True], ids=["capability", "instrument"])
def test_a_run_is_recorded_with_llm_and_tool_steps(make_client, wrap):
    client, calls = make_client(), []

    result = weather_agent(client, calls, wrap=wrap).run_sync("Weather in Paris?")

    assert result.output == "The forecast: sunny in Paris" and calls == ["Paris"]
    assert client.flush(timeout=10)
    run = Run.objects.get()
    assert (run.agent_name, run.status, run.input, run.output) == (
        "weatherbot",
        RunStatus.COMPLETED,
        "Weather in Paris?",
        "The forecast: sunny in Paris",
    )
    assert run.metadata["integration"] == {
        "framework": "pydantic-ai",
        "version": __import__("pydantic_ai").__version__,
        "actions": ["continue", "edit", "skip", "abort"],
    }
    steps = list(run.steps.order_by("step_index"))
    assert [(s.step_type, s.name) for s in steps] == [
        ("llm_call", "chat function:weather_model:"),
        ("tool_call", "search"),
        ("llm_call", "chat function:weather_model:"),
    ]
    first, tool, second = steps
    assert first.input == [
        {"role": "system", "content": "Answer with the forecast."},
        {"role": "user", "content": "Weather in Paris?"},
    ]
    call = {"id": "call_1", "type": "function", "function": {"name": "search", "arguments": '{"query":"Paris"}'}}
    assert first.output == [{"role": "assistant", "content": None, "tool_calls": [call]}]
    assert first.tokens_used == 25
    assert first.metadata["usage"] == {"input_tokens": 20, "output_tokens": 5}
    assert (first.metadata["model"], first.metadata["provider"]) == ("function:weather_model:", "function")
    assert (tool.input, tool.output, tool.metadata["tool_call_id"]) == ({"query": "Paris"}, "sunny in Paris", "call_1")
    assert second.input[-1] == {"role": "tool", "content": "sunny in Paris", "tool_call_id": "call_1", "name": "search"}
    assert second.output == [{"role": "assistant", "content": "The forecast: sunny in Paris"}]
    assert all(s.status == StepStatus.COMPLETED and s.parent_id is None for s in steps)
    assert (run.step_count, run.total_tokens) == (3, 62)


def test_inside_a_run_already_going_on_the_agent_is_a_step_of_it(make_client):
    client, calls = make_client(), []
    with client.run("outer") as outer:
        weather_agent(client, calls).run_sync("Weather in Paris?")
    assert client.flush(timeout=10)

    run = Run.objects.get()
    assert run.id.hex == outer.id.replace("-", "") and run.metadata["integration"]["framework"] == "pydantic-ai"
    agent_step = run.steps.get(parent=None)
    assert (agent_step.name, agent_step.step_type) == ("weatherbot", "custom")
    assert sorted(run.steps.filter(parent=agent_step).values_list("name", flat=True)) == [
        "chat function:weather_model:",
        "chat function:weather_model:",
        "search",
    ]


def test_a_breakpoint_pauses_and_the_edited_argument_reaches_the_tool(make_client, project, api):
    break_on_search(project)
    client, calls = make_client(), []
    agent = Thread(weather_agent(client, calls).run_sync, "Weather in Paris?")

    run = paused_run()
    hit = waiting_hit(run)
    assert (hit.step.name, hit.step_input) == ("search", {"query": "Paris"})
    assert calls == [] and agent.is_alive()

    resume(api, run, action="continue", input={"query": "Oslo"})
    result, error = agent.outcome()

    assert error is None and calls == ["Oslo"]
    assert result.output == "The forecast: sunny in Oslo"
    assert client.flush(timeout=10)
    tool = RunStep.objects.get(name="search")
    assert (tool.input, tool.output) == ({"query": "Oslo"}, "sunny in Oslo")
    assert tool.metadata["breakpoint"]["original_input"] == {"query": "Paris"}
    assert Run.objects.get().status == RunStatus.COMPLETED


def test_skip_gives_the_model_the_output_without_running_the_tool(make_client, project, api):
    break_on_search(project)
    client, calls = make_client(), []
    agent = Thread(weather_agent(client, calls).run_sync, "Weather in Paris?")

    resume(api, paused_run(), action="skip", output="snow, from the cache")
    result, error = agent.outcome()

    assert error is None and calls == []
    assert result.output == "The forecast: snow, from the cache"
    assert client.flush(timeout=10)
    assert RunStep.objects.get(name="search").output == "snow, from the cache"


def test_abort_stops_the_agent_run_and_the_run_ends_failed(make_client, project, api):
    break_on_search(project)
    client, calls = make_client(), []
    agent = Thread(weather_agent(client, calls).run_sync, "Weather in Paris?")

    run = paused_run()
    resume(api, run, action="abort")
    _result, error = agent.outcome()

    assert isinstance(error, agentscope_sdk.Aborted) and calls == []
    assert client.flush(timeout=10)
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and run.error["type"] == "Aborted"
    assert RunStep.objects.get(name="search").status == StepStatus.FAILED
    assert run.steps.filter(step_type="llm_call").count() == 1


def test_on_error_pauses_after_the_tool_failed_and_skip_recovers(make_client, project, api):
    breakpoint_create(project=project, name="On error", condition_type="on_error", condition_value={})
    client, calls = make_client(), []
    agent = Thread(weather_agent(client, calls, fail=True).run_sync, "Weather in Paris?")

    run = paused_run()
    hit = waiting_hit(run)
    assert (hit.phase, hit.status, hit.step.name) == (HitPhase.AFTER, HitStatus.WAITING, "search")
    resume(api, run, action="skip", output="rain, said a person")
    result, error = agent.outcome()

    assert error is None and calls == ["Paris"]
    assert result.output == "The forecast: rain, said a person"
    assert client.flush(timeout=10)
    assert Run.objects.get().status == RunStatus.COMPLETED
    assert BreakpointHit.objects.get().action == "skip"


def test_an_agent_also_exported_over_otlp_is_one_run(make_client, live_server, api_key):
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from pydantic_ai.models.instrumented import InstrumentationSettings

    from apps.ingest.tests.otlp_agents import tracer_provider

    spans = InMemorySpanExporter()
    provider = tracer_provider(spans, batch=False)
    client, calls = make_client(), []
    agent = weather_agent(client, calls)
    agent.instrument = InstrumentationSettings(tracer_provider=provider)

    assert agent.run_sync("Weather in Paris?").output == "The forecast: sunny in Paris"
    assert client.flush(timeout=10)
    exported = httpx.post(
        f"{live_server.url}/v1/traces",
        content=encode_spans(spans.get_finished_spans()).SerializeToString(),
        headers={"X-Agentscope-Key": api_key[1], "Content-Type": "application/x-protobuf"},
    )

    assert exported.status_code == 200
    answer = ExportTraceServiceResponse.FromString(exported.content)
    assert not answer.HasField("partial_success")  # every span accepted, none stored twice
    run = Run.objects.get()  # one run: the integration's, named after the trace
    assert len(run.external_id) == 32 and run.metadata["otel_trace_id"] == run.external_id
    assert run.status == RunStatus.COMPLETED
    assert [s.name for s in run.steps.order_by("step_index")] == [
        "chat function:weather_model:",
        "search",
        "chat function:weather_model:",
    ]
