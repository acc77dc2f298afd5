"""A session built from OpenTelemetry spans: traces that share `gen_ai.conversation.id` (or
`session.id`) and `user.id`, exported by the real OpenTelemetry SDK to /v1/traces."""

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

from apps.ingest.tests.otlp_agents import tracer_provider
from apps.runs.models import Run

pytestmark = pytest.mark.django_db(transaction=True)


def test_traces_of_one_conversation_make_one_session(live_server, project, api_key, api):
    exporter = OTLPSpanExporter(endpoint=f"{live_server.url}/v1/traces", headers={"X-Agentscope-Key": api_key[1]})
    provider = tracer_provider(exporter, batch=False)
    tracer = provider.get_tracer("chat")
    questions = ["What's the weather in Paris?", "And in Lyon?", "Thanks!"]
    for n, question in enumerate(questions):
        keys = {"gen_ai.conversation.id": "conv-42"} if n != 1 else {"session.id": "conv-42"}
        with tracer.start_as_current_span("invoke_agent weather", attributes={**keys, "user.id": "u-5"}):
            attributes = {"gen_ai.operation.name": "chat", "gen_ai.request.model": "test"}
            with tracer.start_as_current_span("chat test", attributes=attributes) as span:
                span.set_attribute(
                    "gen_ai.input.messages",
                    f'[{{"role": "user", "parts": [{{"type": "text", "content": "{question}"}}]}}]',
                )
    provider.shutdown()

    runs = Run.objects.filter(project=project).order_by("started_at")
    assert [(run.session_id, run.user_id) for run in runs] == [("conv-42", "u-5")] * 3
    body = api.get("/api/sessions/conv-42").json()
    assert body["runs"] == 3 and body["user_id"] == "u-5"
    assert [turn["id"] for turn in body["turns"]] == [str(run.pk) for run in runs]
    assert [row["session_id"] for row in api.get("/api/sessions").json()["results"]] == ["conv-42"]
    # spans are searchable as they are written: the second turn's question, in its chat step
    found = api.get("/api/runs", {"q": "lyon"}).json()["results"]
    assert [row["id"] for row in found] == [str(runs[1].pk)] and found[0]["match"]["step_name"] == "chat test"
