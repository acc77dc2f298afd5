"""Spans made by the real OpenTelemetry SDK and encoded by the real exporters' encoders, for tests
that send them in a chosen order, split across requests, or damaged."""

import gzip

from opentelemetry.exporter.otlp.json.common._internal.trace_encoder import encode_spans as json_encode
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans as protobuf_encode
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Status, StatusCode

TRACES = "/v1/traces"
PROTOBUF = "application/x-protobuf"
JSON = "application/json"


def record(build, *, service: str = "support-service") -> list:
    """The finished spans of `build(tracer)`, in the order they ended (children before parents)."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    build(provider.get_tracer("agentscope.tests", "1.0"))
    provider.shutdown()
    return list(exporter.get_finished_spans())


def agent_trace(tracer, *, fail: bool = False) -> None:
    """invoke_agent > (chat, execute_tool > (lookup), chat): GenAI semantic conventions."""
    with tracer.start_as_current_span("invoke_agent support", attributes={"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "support"}):  # fmt: skip
        with tracer.start_as_current_span("chat gpt-4o") as chat:
            chat.set_attributes(
                {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.request.model": "gpt-4o",
                    "gen_ai.input.messages": '[{"role": "user", "parts": [{"type": "text", "content": "Where is my order?"}]}]',
                    "gen_ai.usage.input_tokens": 12,
                    "gen_ai.usage.output_tokens": 3,
                }
            )
        with tracer.start_as_current_span("execute_tool lookup_order") as tool:
            tool.set_attributes({"gen_ai.tool.name": "lookup_order", "gen_ai.tool.call.arguments": '{"id": 7}'})
            with tracer.start_as_current_span("db query"):
                pass
            if fail:
                tool.record_exception(LookupError("no order 7"))
                tool.set_status(Status(StatusCode.ERROR, "no order 7"))
            else:
                tool.set_attribute("gen_ai.tool.call.result", '{"status": "shipped"}')
        with tracer.start_as_current_span("chat gpt-4o", attributes={"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o"}):  # fmt: skip
            pass


def protobuf_body(spans) -> bytes:
    return protobuf_encode(spans).SerializeToString()


def json_body(spans) -> bytes:
    return json_encode(spans).to_json().encode()


def gzipped(body: bytes) -> bytes:
    return gzip.compress(body)


def post(client, body: bytes, content_type: str = PROTOBUF, **headers):
    return client.generic("POST", TRACES, body, content_type=content_type, **headers)
