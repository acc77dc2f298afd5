"""Usage and cost in through every door: a single post, a batch, and real OpenTelemetry spans."""

import uuid
from decimal import Decimal

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

from apps.ingest.tests.otlp_agents import tracer_provider
from apps.runs.models import Run, RunStep
from apps.runs.services import run_create

M = Decimal(1_000_000)
GPT_4O_MINI_INPUT, GPT_4O_MINI_CACHED, GPT_4O_MINI_OUTPUT = Decimal("0.15"), Decimal("0.075"), Decimal("0.60")


@pytest.mark.django_db
class TestIngestApi:
    def test_a_step_posted_with_model_provider_and_usage_is_priced(self, ingest, project):
        run = run_create(project=project, agent_name="bot")[0]
        usage = {"input_tokens": 3_000, "cache_read_tokens": 1_000, "output_tokens": 500, "reasoning_tokens": 100}
        body = {"step_type": "llm_call", "name": "plan", "model": "gpt-4o-mini", "provider": "openai", "usage": usage}
        answer = ingest.post(f"/api/ingest/run/{run.pk}/step", {**body, "output": "ok"}, format="json")
        assert answer.status_code == 201, answer.json()
        expected = (2_000 * GPT_4O_MINI_INPUT + 1_000 * GPT_4O_MINI_CACHED + 500 * GPT_4O_MINI_OUTPUT) / M
        assert Decimal(answer.json()["cost_usd"]) == expected
        step = RunStep.objects.get(pk=answer.json()["id"])
        assert step.metadata["usage"] == usage and step.metadata["model"] == "gpt-4o-mini"
        assert Run.objects.get(pk=run.pk).cost_usd == expected

    def test_a_cost_the_client_knows_is_kept_as_reported(self, ingest, project):
        run = run_create(project=project, agent_name="bot")[0]
        body = {"step_type": "llm_call", "model": "gpt-4o-mini", "usage": {"input_tokens": 10}, "cost_usd": "0.42"}
        answer = ingest.post(f"/api/ingest/run/{run.pk}/step", {**body, "output": "ok"}, format="json")
        step = RunStep.objects.get(pk=answer.json()["id"])
        assert step.cost_usd == Decimal("0.42") and step.cost_details == {"source": "reported"}

    def test_usage_that_arrives_with_the_completion_prices_the_step(self, ingest, project):
        run = run_create(project=project, agent_name="bot")[0]
        created = ingest.post(
            f"/api/ingest/run/{run.pk}/step", {"step_type": "llm_call", "model": "gpt-4o-mini"}, format="json"
        )
        step_id = created.json()["id"]
        assert created.json()["cost_usd"] is None
        done = ingest.patch(
            f"/api/ingest/run/{run.pk}/step/{step_id}",
            {"output": "ok", "usage": {"output_tokens": 1_000_000}, "provider": "openai"},
            format="json",
        )
        assert done.status_code == 200 and Decimal(done.json()["cost_usd"]) == GPT_4O_MINI_OUTPUT

    def test_bad_usage_is_a_400_and_stores_nothing(self, ingest, project):
        run = run_create(project=project, agent_name="bot")[0]
        for bad in (
            {"usage": {"input_tokens": -1}},
            {"usage": "lots"},
            {"cost_usd": "cheap"},
            {"cost_usd": -1},
            {"cost_usd": True},
        ):
            answer = ingest.post(f"/api/ingest/run/{run.pk}/step", {"step_type": "llm_call", **bad}, format="json")
            assert answer.status_code == 400, bad
            assert answer.json()["errors"] and answer.json()["detail"]
            # the schema's Error: every message a string, a nested field by its dotted name
            assert all(isinstance(m, str) for ms in answer.json()["errors"].values() for m in ms), answer.json()
        schema = ingest.get("/api/schema/", HTTP_ACCEPT="application/json").json()["components"]["schemas"]
        declared = [s["properties"]["cost_usd"] for s in schema.values() if "cost_usd" in s.get("properties", {})]
        assert {"type": "number", "minimum": 0} in next(d["oneOf"] for d in declared if "oneOf" in d)
        negative = ingest.post(
            f"/api/ingest/run/{run.pk}/step",
            {"step_type": "llm_call", "usage": {"reasoning_tokens": -1}},
            format="json",
        ).json()
        assert negative["errors"] == {"usage.reasoning_tokens": ["Ensure this value is greater than or equal to 0."]}
        assert negative["detail"] == "usage.reasoning_tokens: Ensure this value is greater than or equal to 0."
        assert not RunStep.objects.filter(run=run).exists()

    def test_a_batch_prices_its_steps(self, ingest, project):
        run_id = str(uuid.uuid4())
        step = {"run_id": run_id, "step_type": "llm_call", "model": "gpt-4o-mini", "output": "ok"}
        events = [
            {"type": "run.create", "body": {"id": run_id, "agent_name": "bot"}},
            {"type": "step.create", "body": {**step, "usage": {"input_tokens": 1_000_000}}},
            {"type": "step.create", "body": {**step, "usage": {"output_tokens": 1_000_000}}},
            {"type": "step.create", "body": {**step, "model": "no-such-model"}},
        ]
        answer = ingest.post("/api/ingest/batch", {"events": events}, format="json")
        assert [result["status"] for result in answer.json()["results"]] == [201] * 4
        run = Run.objects.get(pk=run_id)
        assert run.cost_usd == GPT_4O_MINI_INPUT + GPT_4O_MINI_OUTPUT and run.unpriced_steps == 1


@pytest.mark.django_db(transaction=True)
def test_opentelemetry_genai_spans_are_priced(live_server, project, api_key):
    exporter = OTLPSpanExporter(endpoint=f"{live_server.url}/v1/traces", headers={"X-Agentscope-Key": api_key[1]})
    provider = tracer_provider(exporter, batch=False)
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("invoke_agent bot", attributes={"gen_ai.operation.name": "invoke_agent"}):
        with tracer.start_as_current_span(
            "chat gpt-4o-mini",
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": "openai",
                "gen_ai.request.model": "gpt-4o-mini",
                "gen_ai.usage.input_tokens": 4_000,
                "gen_ai.usage.cache_read.input_tokens": 2_000,
                "gen_ai.usage.output_tokens": 1_000,
                "gen_ai.usage.reasoning.output_tokens": 200,
            },
        ):
            pass
        with tracer.start_as_current_span(
            "chat private",
            attributes={"gen_ai.operation.name": "chat", "gen_ai.request.model": "acme-7b", "gen_ai.usage.cost": 0.25},
        ):
            pass
    provider.shutdown()
    run = Run.objects.get(project=project)
    chat = run.steps.get(name="chat gpt-4o-mini")
    expected = (2_000 * GPT_4O_MINI_INPUT + 2_000 * GPT_4O_MINI_CACHED + 1_000 * GPT_4O_MINI_OUTPUT) / M
    assert chat.cost_usd == expected and chat.model == "gpt-4o-mini"
    assert run.steps.get(name="chat private").cost_usd == Decimal("0.25")
    assert run.cost_usd == expected + Decimal("0.25")
