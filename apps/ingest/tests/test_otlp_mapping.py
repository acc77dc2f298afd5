"""The mapping from spans to run and step events, on spans made by the real OpenTelemetry SDK and
read back through the protobuf encoding, as the endpoint reads them."""

import json
import uuid

import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.trace import Link, Status, StatusCode

from apps.ingest.otlp.mapping import Stored, run_id_for, step_id_for, trace_events
from apps.ingest.otlp.spans import request_spans
from apps.ingest.tests.otlp_spans import agent_trace, record
from apps.runs.inspection import chat_messages, chat_reply, error_view

PROJECT = uuid.UUID("00000000-0000-4000-8000-000000000001")


def events_of(build, **options) -> list[dict]:
    spans, refused = request_spans(encode_spans(record(build, **options)))
    assert not refused
    return trace_events(project_id=PROJECT, spans=spans)


def one_step(attributes: dict, *, name: str = "span", **span) -> dict:
    def build(tracer):
        with tracer.start_as_current_span(name, attributes=attributes, **span):
            pass

    return next(event["body"] for event in events_of(build) if event["type"] == "step.create")


# Types ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "attributes,step_type,source_kind",
    [
        ({"openinference.span.kind": "LLM"}, "llm_call", "LLM"),
        ({"openinference.span.kind": "EMBEDDING"}, "llm_call", "EMBEDDING"),
        ({"openinference.span.kind": "TOOL"}, "tool_call", "TOOL"),
        ({"openinference.span.kind": "RETRIEVER"}, "retrieval", "RETRIEVER"),
        ({"openinference.span.kind": "AGENT"}, "custom", "AGENT"),
        ({"openinference.span.kind": "CHAIN", "gen_ai.operation.name": "chat"}, "custom", "CHAIN"),
        ({"openinference.span.kind": "SOMETHING_NEW", "gen_ai.operation.name": "chat"}, "llm_call", "chat"),
        ({"gen_ai.operation.name": "text_completion"}, "llm_call", "text_completion"),
        ({"gen_ai.operation.name": "generate_content"}, "llm_call", "generate_content"),
        ({"gen_ai.operation.name": "embeddings"}, "llm_call", "embeddings"),
        ({"gen_ai.operation.name": "retrieval"}, "retrieval", "retrieval"),
        ({"gen_ai.operation.name": "execute_tool"}, "tool_call", "execute_tool"),
        ({"gen_ai.operation.name": "invoke_agent", "gen_ai.request.model": "m"}, "custom", "invoke_agent"),
        ({"gen_ai.operation.name": "create_agent"}, "custom", "create_agent"),
        ({"gen_ai.operation.name": "invoke_workflow"}, "custom", "invoke_workflow"),
        ({"gen_ai.tool.name": "search", "gen_ai.request.model": "m"}, "tool_call", "gen_ai.tool"),
        ({"gen_ai.tool.definitions": "[]", "gen_ai.request.model": "m"}, "llm_call", "model"),
        ({"llm.model_name": "gpt-4o"}, "llm_call", "model"),
        ({"gen_ai.response.model": "gpt-4o"}, "llm_call", "model"),
        ({"http.method": "GET"}, "custom", "span"),
    ],
)
def test_the_first_rule_that_matches_gives_the_type(attributes, step_type, source_kind):
    step = one_step(attributes)
    assert (step["step_type"], step["metadata"]["source_kind"]) == (step_type, source_kind)


# Tokens ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "attributes,usage,tokens",
    [
        ({"gen_ai.usage.input_tokens": 10, "gen_ai.usage.output_tokens": 4}, {"input_tokens": 10, "output_tokens": 4}, 14),
        ({"gen_ai.usage.prompt_tokens": 10, "gen_ai.usage.completion_tokens": 4}, {"input_tokens": 10, "output_tokens": 4}, 14),
        ({"llm.token_count.prompt": 10, "llm.token_count.completion": 4}, {"input_tokens": 10, "output_tokens": 4}, 14),
        ({"llm.token_count.prompt": 10, "llm.token_count.total": 30}, {"input_tokens": 10, "total_tokens": 30}, 30),
        ({"gen_ai.usage.output_tokens": 4}, {"output_tokens": 4}, 4),
        (
            {"gen_ai.usage.input_tokens": 10, "gen_ai.usage.cache_read.input_tokens": 6,
             "gen_ai.usage.cache_creation.input_tokens": 2, "gen_ai.usage.reasoning.output_tokens": 3},
            {"input_tokens": 10, "cache_read_tokens": 6, "cache_write_tokens": 2, "reasoning_tokens": 3}, 10,
        ),
        (
            {"gen_ai.usage.cache_read_input_tokens": 6, "gen_ai.usage.cache_creation_input_tokens": 2,
             "gen_ai.usage.reasoning_tokens": 3},
            {"cache_read_tokens": 6, "cache_write_tokens": 2, "reasoning_tokens": 3}, None,
        ),
        (
            {"llm.token_count.prompt_details.cache_read": 6, "llm.token_count.prompt_details.cache_write": 2,
             "llm.token_count.completion_details.reasoning": 3},
            {"cache_read_tokens": 6, "cache_write_tokens": 2, "reasoning_tokens": 3}, None,
        ),
    ],
)  # fmt: skip
def test_tokens_in_every_spelling(attributes, usage, tokens):
    step = one_step({"gen_ai.operation.name": "chat", **attributes})
    assert step["metadata"]["usage"] == usage
    assert step.get("tokens_used") == tokens
    assert "attributes" not in step["metadata"]


def test_two_spellings_of_one_count_are_one_and_a_disagreeing_one_is_kept():
    step = one_step({"gen_ai.usage.input_tokens": 10, "llm.token_count.prompt": 10, "gen_ai.usage.prompt_tokens": 9})
    assert step["metadata"]["usage"] == {"input_tokens": 10}
    assert step["metadata"]["attributes"] == {"gen_ai.usage.prompt_tokens": 9}


# Messages -------------------------------------------------------------------------------------------


def test_genai_messages_with_tool_calls_and_results_read_as_a_chat():
    messages = [
        {"role": "user", "parts": [{"type": "text", "content": "Weather?"}]},
        {"role": "assistant", "parts": [{"type": "reasoning", "content": "Ask the tool."}, {"type": "tool_call", "id": "c1", "name": "weather", "arguments": {"city": "Oslo"}}]},
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": "c1", "response": {"sky": "grey"}}]},
    ]  # fmt: skip
    output = [{"role": "assistant", "parts": [{"type": "text", "content": "Grey."}], "finish_reason": "stop"}]
    step = one_step(
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.system_instructions": json.dumps([{"type": "text", "content": "Be brief."}]),
            "gen_ai.input.messages": json.dumps(messages),
            "gen_ai.output.messages": json.dumps(output),
        }
    )
    shown = chat_messages(step["input"])
    assert [message.role for message in shown] == ["system", "user", "assistant", "tool"]
    assert shown[0].parts[0].text == "Be brief." and shown[1].parts[0].text == "Weather?"
    reasoning, call = shown[2].parts
    assert reasoning.kind == "data" and "Ask the tool." in reasoning.text
    assert (call.kind, call.name, call.ref) == ("tool_call", "weather", "c1") and '"Oslo"' in call.text
    assert shown[3].parts[0].ref == "c1" and '"grey"' in shown[3].parts[0].text
    assert [(m.role, m.parts[0].text) for m in chat_reply(step["output"])] == [("assistant", "Grey.")]
    assert step["metadata"]["finish_reasons"] == ["stop"]
    assert "attributes" not in step["metadata"]


def test_openinference_flattened_messages_read_as_a_chat():
    step = one_step(
        {
            "openinference.span.kind": "LLM",
            "llm.input_messages.0.message.role": "system",
            "llm.input_messages.0.message.content": "Be brief.",
            "llm.input_messages.1.message.role": "user",
            "llm.input_messages.1.message.contents.0.message_content.type": "text",
            "llm.input_messages.1.message.contents.0.message_content.text": "What is this?",
            "llm.input_messages.1.message.contents.1.message_content.type": "image",
            "llm.input_messages.1.message.contents.1.message_content.image.image.url": "https://example.com/a.png",
            "llm.input_messages.10.message.role": "tool",
            "llm.input_messages.10.message.content": "42",
            "llm.input_messages.10.message.tool_call_id": "c9",
            "llm.output_messages.0.message.role": "assistant",
            "llm.output_messages.0.message.tool_calls.0.tool_call.id": "c1",
            "llm.output_messages.0.message.tool_calls.0.tool_call.function.name": "lookup",
            "llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments": '{"q": "a"}',
            "input.value": "raw input",
            "llm.model_name": "gpt-4o",
            "llm.provider": "openai",
        }
    )
    shown = chat_messages(step["input"])
    assert [message.role for message in shown] == ["system", "user", "tool"]  # 10 after 1, not after 0
    assert [part.kind for part in shown[1].parts] == ["text", "image"]
    assert shown[1].parts[1].text == "https://example.com/a.png"
    assert shown[2].parts[0].ref == "c9"
    call = chat_reply(step["output"])[0].parts[0]
    assert (call.kind, call.name, call.ref) == ("tool_call", "lookup", "c1")
    assert step["metadata"]["model"] == "gpt-4o" and step["metadata"]["provider"] == "openai"
    assert step["metadata"]["attributes"] == {"input.value": "raw input"}  # messages won: the raw value stays


def test_openllmetry_flattened_messages_read_as_a_chat():
    step = one_step(
        {
            "gen_ai.request.model": "gpt-4o",
            "gen_ai.prompt.0.role": "user",
            "gen_ai.prompt.0.content": "Find order 7",
            "gen_ai.completion.0.role": "assistant",
            "gen_ai.completion.0.finish_reason": "tool_calls",
            "gen_ai.completion.0.tool_calls.0.name": "lookup_order",
            "gen_ai.completion.0.tool_calls.0.arguments": '{"id": 7}',
            "gen_ai.completion.0.tool_calls.0.id": "c1",
        }
    )
    assert [(m.role, m.parts[0].text) for m in chat_messages(step["input"])] == [("user", "Find order 7")]
    call = chat_reply(step["output"])[0].parts[0]
    assert (call.kind, call.name, call.ref) == ("tool_call", "lookup_order", "c1")
    assert step["metadata"]["finish_reasons"] == ["tool_calls"]


def test_without_messages_input_value_is_the_input():
    step = one_step(
        {
            "openinference.span.kind": "LLM",
            "input.value": '{"prompt": "hi"}',
            "input.mime_type": "application/json",
            "output.value": "{not json",
            "output.mime_type": "text/plain",
        }
    )
    assert step["input"] == {"prompt": "hi"} and step["output"] == "{not json"
    assert "attributes" not in step["metadata"]


def test_a_tool_call_in_both_spellings():
    genai = one_step(
        {"gen_ai.tool.name": "lookup", "gen_ai.tool.call.id": "c1", "gen_ai.tool.call.arguments": '{"id": 7}', "gen_ai.tool.call.result": "shipped"},
        name="execute_tool lookup",
    )  # fmt: skip
    assert (genai["name"], genai["input"], genai["output"]) == ("lookup", {"id": 7}, "shipped")
    assert genai["metadata"]["tool_call_id"] == "c1"
    openinference = one_step(
        {"openinference.span.kind": "TOOL", "tool.name": "lookup", "input.value": '{"id": 7}', "output.value": "shipped", "tool.description": "Finds orders."}
    )  # fmt: skip
    assert (openinference["name"], openinference["input"], openinference["output"]) == ("lookup", {"id": 7}, "shipped")
    assert openinference["metadata"]["attributes"] == {"tool.description": "Finds orders."}


def test_retrieved_documents_are_the_output():
    step = one_step(
        {
            "openinference.span.kind": "RETRIEVER",
            "input.value": "refund policy",
            "retrieval.documents.0.document.content": "Refunds within 30 days.",
            "retrieval.documents.0.document.score": 0.9,
        }
    )
    assert step["input"] == "refund policy"
    assert step["output"] == [{"document": {"content": "Refunds within 30 days.", "score": 0.9}}]


# Errors ---------------------------------------------------------------------------------------------


def test_status_error_and_the_exception_event_make_the_error():
    def build(tracer):
        with tracer.start_as_current_span("tool", record_exception=False, set_status_on_exception=False) as span:
            try:
                raise KeyError("order 7")
            except KeyError as exc:
                span.record_exception(exc)
            span.add_event("retrying", {"attempt": 2})
            span.set_status(Status(StatusCode.ERROR, "lookup failed"))

    step = next(event["body"] for event in events_of(build) if event["type"] == "step.create")
    error = step["error"]
    assert error["type"] == "KeyError" and error["message"] == "'order 7'" and "Traceback" in error["stack"]
    assert error["status_message"] == "lookup failed"
    assert error_view(error).type == "KeyError" and error_view(error).stack_html
    assert [event["name"] for event in step["metadata"]["otel"]["events"]] == ["retrying"]


def test_status_error_alone_is_an_error_with_its_message():
    assert "error" not in one_step({"error.type": "timeout"})  # without an error status it is data

    def build(tracer):
        with tracer.start_as_current_span("call", attributes={"error.type": "timeout"}) as span:
            span.set_status(Status(StatusCode.ERROR, "took too long"))

    step = next(event["body"] for event in events_of(build) if event["type"] == "step.create")
    assert step["error"] == {"type": "timeout", "message": "took too long"}


def test_an_exception_on_a_span_that_ended_ok_was_handled():
    def build(tracer):
        with tracer.start_as_current_span("call") as span:
            span.record_exception(ValueError("retried"))
            span.set_status(Status(StatusCode.OK))

    step = next(event["body"] for event in events_of(build) if event["type"] == "step.create")
    assert "error" not in step
    assert step["metadata"]["otel"]["events"][0]["name"] == "exception"


# The run ---------------------------------------------------------------------------------------------


def steps_of(events: list[dict]) -> list[dict]:
    return [event["body"] for event in events if event["type"] == "step.create"]


def test_a_trace_is_a_run_created_first_and_ended_by_its_root():
    events = events_of(agent_trace)
    assert [event["type"] for event in events] == ["run.create", "run.update", *["step.create"] * 5, "run.end"]
    create, update, steps, end = events[0]["body"], events[1]["body"], steps_of(events), events[-1]["body"]
    assert create["agent_name"] == "support" and create["external_id"] == steps[0]["metadata"]["otel"]["trace_id"]
    assert create["id"] == run_id_for(PROJECT, create["external_id"])
    assert [step["name"] for step in steps] == [
        "invoke_agent support",
        "chat gpt-4o",
        "lookup_order",
        "db query",
        "chat gpt-4o",
    ]
    assert [step["step_type"] for step in steps] == ["custom", "llm_call", "tool_call", "custom", "llm_call"]
    assert steps[0]["parent_id"] is None
    assert [step["parent_id"] for step in steps[1:]] == [steps[0]["id"], steps[0]["id"], steps[2]["id"], steps[0]["id"]]
    assert all(step["id"] == step_id_for(create["id"], step["span_id"]) for step in steps)
    assert create["input"] == steps[1]["input"] and create["started_at"] == steps[0]["started_at"]
    assert update == {
        "run_id": create["id"], "started_at": create["started_at"], "agent_name": "support",
        "metadata": {"resource": create["metadata"]["resource"], "agent_name_source": "gen_ai.agent.name"},
        "input": steps[1]["input"],
    }  # fmt: skip
    assert end == {
        "run_id": create["id"],
        "status": "completed",
        "output": None,
        "error": None,
        "ended_at": steps[0]["ended_at"],
    }
    assert create["metadata"]["resource"]["service.name"] == "support-service"


def test_without_the_root_the_run_is_only_started():
    spans, _ = request_spans(encode_spans(record(agent_trace)))
    events = trace_events(project_id=PROJECT, spans=[span for span in spans if not span.is_root])
    assert [event["type"] for event in events] == ["run.create", "run.update", *["step.create"] * 4]
    assert set(events[1]["body"]) == {"run_id", "started_at"}  # the run may have started earlier still


def test_a_root_arriving_later_reads_what_the_run_holds():
    spans, _ = request_spans(encode_spans(record(agent_trace)))
    root = [span for span in spans if span.is_root]
    root[0].attributes.pop("gen_ai.agent.name")
    earlier = spans[0].start
    stored = Stored(agent_name_source="agent.name", first_llm_input=(earlier, ["hi"]), last_llm_output=(earlier, "bye"))
    events = trace_events(project_id=PROJECT, spans=root, stored=stored)
    update, end = events[1]["body"], events[-1]["body"]
    assert "agent_name" not in update  # a name from an agent attribute beats the root span's name
    assert update["input"] == ["hi"] and end["output"] == "bye"
    events = trace_events(project_id=PROJECT, spans=root, stored=Stored(agent_name_source="service.name"))
    assert events[1]["body"]["agent_name"] == "invoke_agent support"


def test_a_failed_root_fails_the_run():
    def build(tracer):
        with tracer.start_as_current_span("agent") as root:
            root.set_status(Status(StatusCode.ERROR, "gave up"))

    end = events_of(build)[-1]["body"]
    assert end["status"] == "failed" and end["error"] == {"message": "gave up"}


@pytest.mark.parametrize(
    "attributes,expected",
    [
        ({"gen_ai.agent.name": "planner"}, "planner"),
        ({"agent.name": "Planner"}, "Planner"),
        ({}, "root span"),
    ],
)
def test_the_agent_name(attributes, expected):
    def build(tracer):
        with tracer.start_as_current_span("root span"), tracer.start_as_current_span("child", attributes=attributes):
            pass

    assert events_of(build)[0]["body"]["agent_name"] == expected


def test_without_the_root_the_agent_is_the_service():
    spans, _ = request_spans(encode_spans(record(agent_trace, service="billing")))
    children = [span for span in spans if not span.is_root and "gen_ai.agent.name" not in span.attributes]
    assert trace_events(project_id=PROJECT, spans=children)[0]["body"]["agent_name"] == "billing"


def test_session_and_user_are_kept_on_the_run():
    def build(tracer):
        with tracer.start_as_current_span("root"), tracer.start_as_current_span("a", attributes=attributes):
            pass

    attributes = {"session.id": "s-1", "user.id": "u-9"}

    create, update = events_of(build)[:2]
    assert (create["body"]["session_id"], create["body"]["user_id"]) == ("s-1", "u-9")
    assert (update["body"]["session_id"], update["body"]["user_id"]) == ("s-1", "u-9")
    assert "session_id" not in create["body"]["metadata"]
    assert one_step({"gen_ai.conversation.id": "conv-3"})["metadata"]["attributes"] == {
        "gen_ai.conversation.id": "conv-3"
    }


def test_the_root_input_and_output_win_over_the_llm_steps():
    root = {"input.value": "question", "output.value": "answer"}
    llm = {"openinference.span.kind": "LLM", "input.value": "prompt"}

    def build(tracer):
        with tracer.start_as_current_span("root", attributes=root), tracer.start_as_current_span("llm", attributes=llm):
            pass

    events = events_of(build)
    assert events[0]["body"]["input"] == "question" and events[-1]["body"]["output"] == "answer"


# Nothing dropped, everything storable ------------------------------------------------------------------


def test_what_the_mapping_does_not_use_is_kept():
    def build(tracer):
        context = tracer.start_span("other").get_span_context()
        with tracer.start_as_current_span("x", attributes={"custom.flag": True, "retries": [1, 2]}, links=[Link(context, {"why": "follows"})]) as span:  # fmt: skip
            span.add_event("checkpoint", {"n": 1})

    step = [event["body"] for event in events_of(build) if event["type"] == "step.create"][-1]
    assert step["metadata"]["attributes"] == {"custom.flag": True, "retries": [1, 2]}
    assert step["metadata"]["otel"]["events"][0]["attributes"] == {"n": 1}
    assert step["metadata"]["otel"]["links"][0]["attributes"] == {"why": "follows"}
    assert step["metadata"]["otel"]["scope"] == {"name": "agentscope.tests", "version": "1.0"}


def test_nul_characters_and_non_finite_numbers_become_storable():
    step = one_step({"text": "a\x00b", "ratio": float("nan"), "big": float("inf"), "input.value": '{"k": "v\\u0000"}'})
    assert step["metadata"]["attributes"] == {"text": "a\ufffdb", "ratio": "nan", "big": "inf"}
    assert step["input"] == {"k": "v\ufffd"}


def test_long_names_are_cut_to_the_column():
    assert len(one_step({}, name="n" * 400)["name"]) == 255


def test_another_project_gets_other_ids_for_the_same_trace():
    spans, _ = request_spans(encode_spans(record(agent_trace)))
    ours = trace_events(project_id=PROJECT, spans=spans)
    theirs = trace_events(project_id=uuid.uuid4(), spans=spans)
    assert ours[0]["body"]["external_id"] == theirs[0]["body"]["external_id"]
    assert ours[0]["body"]["id"] != theirs[0]["body"]["id"]
    assert not {step["id"] for step in steps_of(ours)} & {step["id"] for step in steps_of(theirs)}
