"""Real OpenTelemetry clients exporting to the live server's /v1/traces: no hand-written spans."""

import pytest
from opentelemetry.exporter.otlp.json.http.trace_exporter import OTLPSpanExporter as JsonExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as ProtobufExporter

from apps.ingest.tests.otlp_agents import (
    ANSWER,
    QUESTION,
    chat_completions_server,
    openai_agents_run,
    pydantic_ai_run,
    tracer_provider,
)
from apps.runs.inspection import chat_messages, chat_reply, step_usage
from apps.runs.models import Run, RunStatus, StepType

pytestmark = pytest.mark.django_db(transaction=True)


def exporter(exporter_class, live_server, raw_key: str, **options):
    return exporter_class(endpoint=f"{live_server.url}/v1/traces", headers={"X-Agentscope-Key": raw_key}, **options)


def the_run(project) -> tuple[Run, dict]:
    run = Run.objects.get(project=project)
    return run, {step.name: step for step in run.steps.order_by("step_index")}


def texts(messages) -> list[tuple[str, str]]:
    return [(message.role, part.text) for message in messages for part in message.parts if part.kind == "text"]


@pytest.mark.parametrize("exporter_class", [ProtobufExporter, JsonExporter], ids=["protobuf", "json"])
def test_a_pydantic_ai_agent_becomes_a_run_of_nested_typed_steps(exporter_class, live_server, project, api_key):
    pydantic_ai_run(tracer_provider(exporter(exporter_class, live_server, api_key[1])))

    run, steps = the_run(project)
    assert run.agent_name == "weather_agent"
    assert run.status == RunStatus.COMPLETED and run.ended_at is not None
    assert len(run.external_id) == 32 and int(run.external_id, 16)
    root = steps["invoke_agent weather_agent"]
    chats = [step for step in run.steps.order_by("step_index") if step.step_type == StepType.LLM_CALL]
    tool = steps["get_weather"]
    assert [step.step_type for step in run.steps.order_by("step_index")] == [
        StepType.CUSTOM, StepType.LLM_CALL, StepType.TOOL_CALL, StepType.LLM_CALL,
    ]  # fmt: skip
    assert root.parent_id is None and root.step_index == 0
    assert all(step.parent_id == root.pk for step in [*chats, tool])
    assert tool.input == {"city": "Paris"} and tool.output == "sunny in Paris"
    assert tool.metadata["tool_call_id"] == "call_1" and tool.metadata["source_kind"] == "execute_tool"

    first, last = chats
    assert texts(chat_messages(first.input)) == [("system", "Answer in one sentence."), ("user", QUESTION)]
    call = chat_reply(first.output)[0].parts[0]
    assert (call.kind, call.name, call.ref) == ("tool_call", "get_weather", "call_1") and '"Paris"' in call.text
    assert texts(chat_reply(last.output)) == [("assistant", ANSWER)]
    results = [part for message in chat_messages(last.input) for part in message.parts if part.kind != "text"]
    assert any(part.ref == "call_1" for part in results)
    for chat in chats:
        usage = step_usage(metadata=chat.metadata, output=chat.output)
        assert usage.input > 0 and usage.output > 0 and chat.tokens_used == usage.input + usage.output
        assert chat.metadata["model"] == "function:model:" and chat.metadata["provider"] == "function"
    assert run.total_tokens == sum(chat.tokens_used for chat in chats) and run.step_count == 4

    assert run.input == first.input and run.output == ANSWER
    assert run.metadata["source"] == "otlp" and run.metadata["resource"]["service.name"] == "weather-service"
    assert run.session_id == root.metadata["attributes"]["gen_ai.conversation.id"]


def test_a_failing_tool_is_an_error_step_and_fails_the_run(live_server, project, api_key):
    with pytest.raises(RuntimeError):
        pydantic_ai_run(tracer_provider(exporter(ProtobufExporter, live_server, api_key[1])), fail=True)

    run, steps = the_run(project)
    assert run.status == RunStatus.FAILED
    tool = steps["get_weather"]
    assert tool.status == "failed" and tool.error["type"] == "RuntimeError"
    assert tool.error["message"] == "the weather service is down for Paris"
    assert "Traceback" in tool.error["stack"]
    assert run.error["type"] == "RuntimeError" and run.error_count >= 2


def test_an_openai_agents_sdk_agent_traced_by_openinference(live_server, project, api_key):
    with chat_completions_server() as base_url:
        openai_agents_run(tracer_provider(exporter(ProtobufExporter, live_server, api_key[1])), base_url)

    run, steps = the_run(project)
    assert run.agent_name == "Weather agent"
    assert run.status == RunStatus.COMPLETED
    ordered = list(run.steps.order_by("step_index"))
    assert ordered[0].parent_id is None and ordered[0].metadata["source_kind"] == "AGENT"
    generations = [step for step in ordered if step.step_type == StepType.LLM_CALL]
    tool = steps["get_weather"]
    assert len(generations) == 2 and tool.step_type == StepType.TOOL_CALL
    assert tool.input == {"city": "Paris"} and tool.output == "sunny in Paris"
    assert texts(chat_messages(generations[0].input)) == [("system", "Answer in one sentence."), ("user", QUESTION)]
    call = chat_reply(generations[0].output)[0].parts[0]
    assert (call.kind, call.name, call.ref) == ("tool_call", "get_weather", "call_1")
    assert texts(chat_reply(generations[1].output)) == [("assistant", ANSWER)]
    for generation in generations:
        assert generation.tokens_used == 49 and generation.metadata["model"] == "gpt-4o-mini"
        assert generation.metadata["usage"] == {"input_tokens": 40, "output_tokens": 9}
    parents = {step.pk: step for step in ordered}
    depth = lambda step: 0 if step.parent_id is None else 1 + depth(parents[step.parent_id])  # noqa: E731
    assert depth(tool) > depth(ordered[0]) and all(step.parent_id in parents for step in ordered[1:])
    assert run.input == generations[0].input and run.output == generations[1].output
