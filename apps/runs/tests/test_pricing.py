"""Cost on write: real models of OpenAI, Anthropic and Google priced from the per-token prices written
out here (not read back from the library), custom prices winning, unknown models unpriced, reported
costs kept, and the run's totals kept like its token counter."""

from datetime import timedelta
from decimal import Decimal

import pytest
from genai_prices import Usage, calc_price

from apps.runs.models import CustomPrice, RunStep
from apps.runs.prices import custom_price_create
from apps.runs.pricing import table_cost
from apps.runs.services import step_create, step_update
from apps.runs.tests.conftest import T0

M = Decimal(1_000_000)


def llm(model, usage, provider=None, **metadata):
    meta = {"model": model, "usage": usage, **metadata}
    if provider:
        meta["provider"] = provider
    return {"step_type": "llm_call", "name": model, "metadata": meta, "output": "ok", "started_at": T0}


def priced(run, data) -> RunStep:
    step, _ = step_create(run=run, data=data)
    return RunStep.objects.get(pk=step.pk)


# Prices per million tokens, as the providers publish them (USD).
GPT_4O_MINI = {"input": Decimal("0.15"), "cached": Decimal("0.075"), "output": Decimal("0.60")}
O3_MINI = {"input": Decimal("1.10"), "cached": Decimal("0.55"), "output": Decimal("4.40")}
SONNET_4 = {
    "input": Decimal("3"),
    "cache_read": Decimal("0.30"),
    "cache_write": Decimal("3.75"),
    "output": Decimal("15"),
}
GEMINI_25_FLASH = {"input": Decimal("0.30"), "cached": Decimal("0.03"), "output": Decimal("2.50")}


@pytest.mark.django_db
class TestTablePrices:
    def test_openai_with_cached_input_and_reasoning(self, make_run):
        run = make_run(end=False)
        usage = {"input_tokens": 10_000, "cache_read_tokens": 4_000, "output_tokens": 2_000, "reasoning_tokens": 500}
        step = priced(run, llm("gpt-4o-mini", usage, "openai"))
        p = GPT_4O_MINI
        expected = (6_000 * p["input"] + 4_000 * p["cached"] + 2_000 * p["output"]) / M
        assert step.cost_usd == expected == Decimal("0.0024")
        assert step.model == "gpt-4o-mini"
        assert step.cost_details["source"] == "genai-prices" and step.cost_details["version"]
        assert Decimal(step.cost_details["input"]) == 6_000 * p["input"] / M
        assert Decimal(step.cost_details["cache_read"]) == 4_000 * p["cached"] / M

    def test_an_openai_reasoning_model(self, make_run):
        run = make_run(end=False)
        usage = {"input_tokens": 10_000, "cache_read_tokens": 2_000, "output_tokens": 3_000, "reasoning_tokens": 2_500}
        step = priced(run, llm("o3-mini", usage, "openai"))
        p = O3_MINI
        assert step.cost_usd == (8_000 * p["input"] + 2_000 * p["cached"] + 3_000 * p["output"]) / M

    def test_anthropic_with_cache_reads_and_writes(self, make_run):
        run = make_run(end=False)
        # Anthropic's 1,000 uncached input tokens plus its cache reads and writes: 26,000 in all.
        usage = {"input_tokens": 26_000, "cache_read_tokens": 20_000, "cache_write_tokens": 5_000, "output_tokens": 800}
        step = priced(run, llm("claude-sonnet-4-20250514", usage, "anthropic"))
        p = SONNET_4
        expected = (1_000 * p["input"] + 20_000 * p["cache_read"] + 5_000 * p["cache_write"] + 800 * p["output"]) / M
        assert step.cost_usd == expected == Decimal("0.03975")

    def test_google_with_cache_and_thinking(self, make_run):
        run = make_run(end=False)
        # Google's 1,000 candidate tokens plus 3,000 thinking tokens: 4,000 output tokens.
        usage = {"input_tokens": 12_000, "cache_read_tokens": 8_000, "output_tokens": 4_000, "reasoning_tokens": 3_000}
        step = priced(run, llm("gemini-2.5-flash", usage, "google"))
        p = GEMINI_25_FLASH
        assert step.cost_usd == (4_000 * p["input"] + 8_000 * p["cached"] + 4_000 * p["output"]) / M

    def test_an_unknown_provider_name_still_finds_the_model(self, make_run):
        run = make_run(end=False)
        step = priced(run, llm("gpt-4o-mini", {"input_tokens": 1_000_000}, "openai.chat"))
        assert step.cost_usd == GPT_4O_MINI["input"]

    @pytest.mark.parametrize(
        ("model", "provider", "usage"),
        [
            ("gpt-4o-mini", "openai", {"input_tokens": 7_777, "cache_read_tokens": 1_234, "output_tokens": 4_321}),
            (
                "claude-sonnet-4-20250514",
                "anthropic",
                {"input_tokens": 9_000, "cache_write_tokens": 3_000, "output_tokens": 10},
            ),
            (
                "claude-3-5-haiku-latest",
                "anthropic",
                {"input_tokens": 5_000, "cache_read_tokens": 4_000, "output_tokens": 99},
            ),
            ("gpt-4.1", "openai", {"input_tokens": 123_456, "cache_read_tokens": 100_000, "output_tokens": 7_890}),
            (
                "gemini-2.5-flash",
                "google",
                {"input_tokens": 50_000, "cache_read_tokens": 20_000, "output_tokens": 3_000},
            ),
            ("gemini-2.5-pro", "google", {"input_tokens": 150_000, "output_tokens": 3_000}),
            ("gemini-2.5-pro", "google", {"input_tokens": 300_000, "output_tokens": 3_000}),  # past a tier
        ],
    )
    def test_the_flat_rates_agree_with_the_library_calculator(self, model, provider, usage):
        cost, _ = table_cost(model, provider, usage, T0)
        assert cost == calc_price(Usage(**usage), model, provider_id=provider, genai_request_timestamp=T0).total_price


@pytest.mark.django_db
class TestWhatWins:
    def test_a_custom_price_wins_over_the_table(self, project, make_run):
        custom_price_create(
            project=project,
            data={"model": "gpt-4o-mini", "input_per_million": Decimal("1"), "output_per_million": Decimal("2")},
        )
        run = make_run(end=False)
        step = priced(run, llm("gpt-4o-mini", {"input_tokens": 1_000, "output_tokens": 500}, "openai"))
        assert step.cost_usd == (1_000 * 1 + 500 * 2) / M
        assert step.cost_details["source"] == "custom"

    def test_a_pattern_prices_a_fine_tuned_model(self, project, make_run):
        custom_price_create(
            project=project,
            data={
                "model": "ft:gpt-4o-mini:acme:*",
                "match": "glob",
                "input_per_million": Decimal("0.30"),
                "output_per_million": Decimal("1.20"),
                "cache_read_per_million": Decimal("0.15"),
                "reasoning_per_million": Decimal("5"),
            },
        )
        run = make_run(end=False)
        usage = {"input_tokens": 2_000, "cache_read_tokens": 1_000, "output_tokens": 1_000, "reasoning_tokens": 400}
        step = priced(run, llm("ft:gpt-4o-mini:acme:support-v2:abc123", usage, "openai"))
        expected = (1_000 * Decimal("0.30") + 1_000 * Decimal("0.15") + 600 * Decimal("1.20") + 400 * 5) / M
        assert step.cost_usd == expected

    def test_an_exact_name_wins_over_a_pattern(self, project, make_run):
        for model, match, price in (("my-*", "glob", "1"), ("my-model", "exact", "2")):
            custom_price_create(
                project=project,
                data={"model": model, "match": match, "input_per_million": Decimal(price), "output_per_million": 0},
            )
        run = make_run(end=False)
        assert priced(run, llm("my-model", {"input_tokens": 1_000_000})).cost_usd == 2

    def test_an_unknown_model_has_no_price_never_zero(self, make_run):
        run = make_run(end=False)
        step = priced(run, llm("acme-private-llm-7", {"input_tokens": 1_000, "output_tokens": 10}, "acme"))
        assert step.cost_usd is None and step.cost_details is None
        run.refresh_from_db()
        assert run.cost_usd is None and run.unpriced_steps == 1

    def test_another_projects_custom_price_is_not_used(self, bob_project, make_run):
        custom_price_create(
            project=bob_project, data={"model": "acme-llm", "input_per_million": 1, "output_per_million": 1}
        )
        run = make_run(end=False)
        assert priced(run, llm("acme-llm", {"input_tokens": 1_000})).cost_usd is None

    def test_a_reported_cost_is_kept_and_marked(self, make_run):
        run = make_run(end=False)
        usage = {"input_tokens": 1_000_000}
        step = priced(run, llm("gpt-4o-mini", usage, "openai", cost_usd="0.0123"))
        assert step.cost_usd == Decimal("0.0123")
        assert step.cost_details == {"source": "reported"}

    def test_a_step_that_is_no_llm_call_is_not_priced_nor_counted(self, make_run):
        run = make_run(end=False)
        step = priced(run, {"step_type": "tool_call", "name": "search", "metadata": {"model": "gpt-4o-mini"}})
        assert step.cost_usd is None
        run.refresh_from_db()
        assert run.unpriced_steps == 0


@pytest.mark.django_db
class TestRunTotals:
    def test_the_run_total_is_the_sum_of_its_steps(self, make_run):
        run = make_run(end=False)
        for tokens in (1_000, 2_000, 3_000):
            priced(run, llm("gpt-4o-mini", {"input_tokens": tokens, "output_tokens": tokens}, "openai"))
        priced(run, llm("unknown-model-x", {"input_tokens": 5}))
        run.refresh_from_db()
        steps = RunStep.objects.filter(run=run, cost_usd__isnull=False)
        assert run.cost_usd == sum(step.cost_usd for step in steps) == (6_000 * Decimal("0.75")) / M
        assert run.unpriced_steps == 1

    def test_a_step_completed_later_is_priced_when_its_usage_comes(self, make_run):
        run = make_run(end=False)
        step, _ = step_create(
            run=run, data={"step_type": "llm_call", "name": "plan", "metadata": {"model": "gpt-4o-mini"}}
        )
        run.refresh_from_db()
        assert run.cost_usd is None and run.unpriced_steps == 0  # still running: not unpriced yet
        step_update(
            run=run,
            step_id=step.pk,
            data={"output": "done", "metadata": {"usage": {"input_tokens": 1_000_000}}, "ended_at": T0 + timedelta(1)},
        )
        run.refresh_from_db()
        assert run.cost_usd == GPT_4O_MINI["input"] and run.unpriced_steps == 0
        step_update(run=run, step_id=step.pk, data={"metadata": {"usage": {"input_tokens": 2_000_000}}})
        run.refresh_from_db()
        assert run.cost_usd == 2 * GPT_4O_MINI["input"]

    def test_a_batch_prices_every_step_once(self, project, make_run):
        from apps.runs.writes import runs_write

        run = make_run(end=False)
        events = [("step.create", {**llm("gpt-4o-mini", {"output_tokens": 1_000_000}, "openai"), "run_id": run.pk})] * 3
        runs_write(project_id=project.pk, events=events)
        run.refresh_from_db()
        assert run.cost_usd == 3 * GPT_4O_MINI["output"]
        assert CustomPrice.objects.count() == 0


@pytest.mark.django_db
def test_the_compare_page_shows_the_cost_difference(make_run, api, client_alice):
    a, b = make_run(end=False), make_run(end=False)
    priced(a, llm("gpt-4o-mini", {"input_tokens": 1_000_000}, "openai"))
    priced(b, llm("gpt-4o-mini", {"input_tokens": 2_000_000}, "openai"))
    totals = {row["field"]: row for row in api.get(f"/api/runs/{a.pk}/compare/{b.pk}").json()["totals"]}
    assert Decimal(totals["cost_usd"]["a"]) == Decimal("0.15") and Decimal(totals["cost_usd"]["delta"]) == Decimal(
        "0.15"
    )
    page = client_alice.get(f"/runs/{a.pk}/compare/{b.pk}").content.decode()
    assert "data-cost-delta>+$0.15<" in page


@pytest.mark.django_db
def test_a_replays_copies_of_recorded_calls_cost_nothing(make_run):
    from apps.runs.replay import run_replay_create

    run = make_run(end=False)
    for _ in range(2):
        priced(run, llm("gpt-4o-mini", {"input_tokens": 1_000_000}, "openai"))
    replay = run_replay_create(run=run, from_step=1)
    replay.refresh_from_db()
    assert replay.step_count == 1 and replay.cost_usd is None and replay.unpriced_steps == 0


@pytest.mark.django_db
def test_a_priced_step_of_a_run_of_a_closed_day_marks_the_rollup_stale(project):
    from apps.runs.models import RollupDay
    from apps.runs.rollup import rollup_rows
    from apps.runs.services import run_create

    started = T0 - timedelta(days=3)
    run = run_create(project=project, agent_name="bot", started_at=started)[0]
    day = started.date()
    rollup_rows(project_id=project.pk, first=day, last=day)  # summed: current
    marker = RollupDay.objects.get(project=project, day=day)
    assert marker.rolled_version == marker.version
    # posted running with its output (no end time): on PostgreSQL, the one-statement path
    step_create(
        run=run,
        data={
            "step_type": "llm_call",
            "metadata": {"model": "gpt-4o-mini", "usage": {"input_tokens": 1_000_000}},
            "output": "ok",
        },
    )
    marker.refresh_from_db()
    assert marker.version > marker.rolled_version
    assert rollup_rows(project_id=project.pk, first=day, last=day)[0]["cost_sum"] == GPT_4O_MINI["input"]
