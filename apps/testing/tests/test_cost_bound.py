"""A test fails when an agent's run gets too expensive: the assertion type's `cost_usd` bound."""

import pytest

from apps.core.errors import ApplicationError
from apps.runs.services import run_create, run_end, step_create
from apps.testing.services import test_create, test_evaluate


def run_costing(project, input_tokens, *extra_models):
    """A research-bot run whose gpt-4o-mini call reads `input_tokens` ($0.15 per million)."""
    run = run_create(project=project, agent_name="research-bot")[0]
    for model in ("gpt-4o-mini", *extra_models):
        metadata = {"model": model, "provider": "openai", "usage": {"input_tokens": input_tokens}}
        step_create(run=run, data={"step_type": "llm_call", "metadata": metadata, "output": "ok"})
    return run_end(project=project, run_id=run.pk, data={})


@pytest.fixture
def budget(project):
    config = {
        "target": {"agent_name": "research-bot"},
        "assertions": [{"metric": "cost_usd", "op": "lte", "value": 0.05}],
    }
    return test_create(project=project, name="At most 5 cents", test_type="assertion", config=config)


@pytest.mark.django_db
class TestCostBound:
    def test_a_cheap_run_passes(self, project, budget):
        result = test_evaluate(test=budget, run=run_costing(project, 100_000))  # $0.015
        assert result.status == "passed", result.result

    def test_an_expensive_run_fails_and_says_by_how_much(self, project, budget):
        result = test_evaluate(test=budget, run=run_costing(project, 1_000_000))  # $0.15
        assert result.status == "failed"
        assert result.result["checks"][0]["actual"] == pytest.approx(0.15)
        assert "expected ≤ 0.05" in result.result["checks"][0]["message"]

    def test_a_run_without_a_price_fails_rather_than_passing_at_zero(self, project, budget):
        run = run_create(project=project, agent_name="research-bot")[0]
        step_create(
            run=run,
            data={
                "step_type": "llm_call",
                "metadata": {"model": "acme-9", "usage": {"input_tokens": 5}},
                "output": "ok",
            },
        )
        result = test_evaluate(test=budget, run=run_end(project=project, run_id=run.pk, data={}))
        assert result.status == "failed" and "no cost_usd recorded" in result.result["checks"][0]["message"]

    def test_unpriced_calls_are_named(self, project, budget):
        result = test_evaluate(test=budget, run=run_costing(project, 1_000_000, "acme-9"))
        assert "1 LLM call(s) without a price not counted" in result.result["checks"][0]["message"]

    def test_the_bound_is_validated_on_save(self, project):
        config = {"target": {"agent_name": "x"}, "assertions": [{"metric": "cost_usd", "op": "lte", "value": "cheap"}]}
        with pytest.raises(ApplicationError) as refused:
            test_create(project=project, name="bad", test_type="assertion", config=config)
        assert "config.assertions[0].value" in refused.value.errors
