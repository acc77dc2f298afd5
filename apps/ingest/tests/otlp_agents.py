"""Real agents instrumented with OpenTelemetry, for the OTLP tests: a pydantic-ai agent on its
`FunctionModel` (no network), and an OpenAI Agents SDK agent traced by OpenInference whose model is a
small local server answering like the Chat Completions API. Each asks for the weather in Paris,
calls the `get_weather` tool once, then answers."""

import json
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

QUESTION = "What is the weather in Paris?"
ANSWER = "It is sunny in Paris."


def tracer_provider(exporter, *, service: str = "weather-service", batch: bool = True) -> TracerProvider:
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter))
    return provider


# pydantic-ai ----------------------------------------------------------------------------------------


def pydantic_ai_run(provider: TracerProvider, *, fail: bool = False) -> None:
    """Runs the weather agent once, instrumented with `Agent.instrument_all()`; `fail` makes its
    tool raise, which pydantic-ai records on the tool's span and the agent's."""
    from pydantic_ai import Agent
    from pydantic_ai.messages import ModelResponse, TextPart, ToolCallPart
    from pydantic_ai.models.function import FunctionModel
    from pydantic_ai.models.instrumented import InstrumentationSettings

    def model(messages, info):
        if len(messages) == 1:
            return ModelResponse(parts=[ToolCallPart("get_weather", {"city": "Paris"}, tool_call_id="call_1")])
        return ModelResponse(parts=[TextPart(ANSWER)])

    agent = Agent(FunctionModel(model), name="weather_agent", instructions="Answer in one sentence.")

    @agent.tool_plain
    def get_weather(city: str) -> str:
        if fail:
            raise RuntimeError(f"the weather service is down for {city}")
        return f"sunny in {city}"

    Agent.instrument_all(InstrumentationSettings(tracer_provider=provider))
    try:
        agent.run_sync(QUESTION)
    finally:
        Agent.instrument_all(False)
        provider.shutdown()  # flushes, and closes the exporter's connections


# OpenAI Agents SDK + OpenInference ---------------------------------------------------------------


class ChatCompletions(BaseHTTPRequestHandler):
    """`POST /v1/chat/completions`: a tool call first, the answer once the tool's result is sent."""

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if any(message.get("role") == "tool" for message in body["messages"]):
            message, reason = {"role": "assistant", "content": ANSWER}, "stop"
        else:
            call = {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
            }
            message, reason = {"role": "assistant", "content": None, "tool_calls": [call]}, "tool_calls"
        answer = {
            "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": body["model"],
            "choices": [{"index": 0, "message": message, "finish_reason": reason}],
            "usage": {"prompt_tokens": 40, "completion_tokens": 9, "total_tokens": 49},
        }  # fmt: skip
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@contextmanager
def chat_completions_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), ChatCompletions)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


def openai_agents_run(provider: TracerProvider, base_url: str) -> None:
    from agents import Agent, OpenAIChatCompletionsModel, Runner, function_tool
    from openai import AsyncOpenAI
    from openinference.instrumentation.openai_agents import OpenAIAgentsInstrumentor

    @function_tool
    def get_weather(city: str) -> str:
        """The weather of a city."""
        return f"sunny in {city}"

    client = AsyncOpenAI(base_url=base_url, api_key="sk-local")
    model = OpenAIChatCompletionsModel(model="gpt-4o-mini", openai_client=client)
    agent = Agent(name="Weather agent", instructions="Answer in one sentence.", tools=[get_weather], model=model)
    instrumentor = OpenAIAgentsInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    try:
        Runner.run_sync(agent, QUESTION)
    finally:
        instrumentor.uninstrument()
        provider.shutdown()  # flushes, and closes the exporter's connections
