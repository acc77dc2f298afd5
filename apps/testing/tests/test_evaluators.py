"""Every evaluator on known runs, passing and failing: pure functions, no database."""

import copy

import pytest

from apps.testing import paths
from apps.testing.evaluators import EvaluationError, evaluate
from apps.testing.evaluators.assertion import evaluate_check
from apps.testing.tests.conftest import DEMO_STEPS

RUN = {
    "id": "00000000-0000-0000-0000-000000000001",
    "agent_name": "support-bot",
    "status": "completed",
    "input": {"messages": [{"role": "user", "content": "What is 6*7?"}]},
    "output": {"answer": "42", "sources": ["calc"], "meta": {"id": "abc", "score": 0.9}},
    "metadata": {"env": "prod", "cost": 0.0123},
    "error": None,
    "started_at": "2026-01-01T10:00:00+00:00",
    "ended_at": "2026-01-01T10:00:01.200000+00:00",
    "duration_ms": 1200,
    "total_tokens": 350,
}
STEPS = [{"step_index": i, "status": "completed", "error": None, **step} for i, step in enumerate(DEMO_STEPS)]


def check(spec, run=RUN, steps=STEPS):
    return evaluate_check(spec, run, steps)


class TestPaths:
    @pytest.mark.parametrize(
        ("path", "expected"),
        [
            ("output.answer", "42"),
            ("input.messages[0].content", "What is 6*7?"),
            ("input.messages[-1].role", "user"),
            ("steps[name=search].output.hits[0].title", "Times"),
            ("steps[step_type=tool_call].name", "search"),
            ("steps[-1].output.text", "42"),
            ("steps[1].output.hits[id=1].title", "Times"),
            ('metadata["env"]', "prod"),
        ],
    )
    def test_it_resolves(self, path, expected):
        assert paths.resolve(path, RUN, STEPS)[:2] == (True, expected)

    def test_it_says_where_it_stopped(self):
        assert paths.resolve("output.answer.value", RUN, STEPS) == (False, None, "output.answer.value")
        assert paths.resolve("steps[name=nope].output", RUN, STEPS)[2] == "steps[name=nope]"
        assert paths.resolve("input.messages[5]", RUN, STEPS)[2] == "input.messages[5]"

    @pytest.mark.parametrize(
        ("path", "message"),
        [
            ("outptu.answer", "unknown root 'outptu'"),
            ("output..answer", "can't read"),
            ("", "non-empty"),
            ("output[x", "can't read"),
        ],
    )
    def test_it_refuses_bad_paths(self, path, message):
        with pytest.raises(paths.PathError, match=message):
            paths.parse(path)


class TestPathChecks:
    def test_equals(self):
        assert check({"path": "output.answer", "op": "equals", "value": "42"}).passed
        failed = check({"path": "output.answer", "op": "equals", "value": 42})
        assert not failed.passed
        assert (failed.actual, failed.expected) == ("42", 42)
        assert failed.message == 'expected output.answer to equal 42, got "42"'

    def test_equals_tells_true_from_one(self):
        run = {**RUN, "output": {"ok": True}}
        assert check({"path": "output.ok", "op": "equals", "value": True}, run).passed
        assert not check({"path": "output.ok", "op": "equals", "value": 1}, run).passed

    @pytest.mark.parametrize(
        ("path", "value", "passed"),
        [
            ("input.messages[0].content", "6*7", True),
            ("input.messages[0].content", "6*8", False),
            ("output.sources", "calc", True),
            ("output.sources", "web", False),
            ("output.meta", "score", True),
            ("output.meta", {"id": "abc"}, True),
            ("output.meta", {"id": "xyz"}, False),
        ],
    )
    def test_contains(self, path, value, passed):
        assert check({"path": path, "op": "contains", "value": value}).passed is passed
        assert check({"path": path, "op": "not_contains", "value": value}).passed is not passed

    def test_contains_on_a_number_fails_with_a_reason(self):
        result = check({"path": "output.meta.score", "op": "contains", "value": "9"})
        assert not result.passed and "contains works on text, lists and objects" in result.message
        assert not check({"path": "output.meta.score", "op": "not_contains", "value": "9"}).passed

    def test_matches(self):
        assert check({"path": "output.answer", "op": "matches", "value": r"^\d+$"}).passed
        failed = check({"path": "input.messages[0].content", "op": "matches", "value": r"^\d+$"})
        assert not failed.passed and failed.message.startswith("expected input.messages[0].content to match")

    def test_matches_schema(self):
        schema = {
            "type": "object",
            "required": ["answer"],
            "properties": {"answer": {"type": "string", "pattern": "^4"}},
        }
        assert check({"path": "output", "op": "matches_schema", "value": schema}).passed
        wrong = {**schema, "properties": {"answer": {"type": "integer"}, "sources": {"maxItems": 0}}}
        failed = check({"path": "output", "op": "matches_schema", "value": wrong})
        assert not failed.passed
        assert "/answer: '42' is not of type 'integer'" in failed.message
        assert "/sources:" in failed.message

    def test_a_missing_path_fails_and_says_what_is_missing(self):
        result = check({"path": "steps[name=rerank].output", "op": "equals", "value": 1})
        assert not result.passed and result.message == "the run has no steps[name=rerank]"


class TestMetrics:
    @pytest.mark.parametrize(
        ("metric", "op", "value", "passed"),
        [
            ("latency_ms", "lt", 5000, True),
            ("latency_ms", "lt", 1000, False),
            ("tokens", "lte", 350, True),
            ("tokens", "gt", 350, False),
            ("steps", "eq", 4, True),
            ("steps", "gte", 5, False),
            ("errors", "eq", 0, True),
            ("cost", "lt", 0.01, False),
            ("cost", "lt", 0.02, True),
        ],
    )
    def test_it_compares(self, metric, op, value, passed):
        assert check({"metric": metric, "op": op, "value": value}).passed is passed

    def test_failure_reads_well(self):
        result = check({"metric": "latency_ms", "op": "lt", "value": 1000})
        assert result.actual == 1200 and result.message == "latency_ms is 1200, expected < 1000"

    def test_latency_falls_back_to_timestamps_and_tokens_to_steps(self):
        run = {**RUN, "duration_ms": None, "total_tokens": 0}
        assert check({"metric": "latency_ms", "op": "eq", "value": 1200}, run).passed
        assert check({"metric": "tokens", "op": "eq", "value": 350}, run).passed

    def test_cost_sums_steps_and_fails_when_unrecorded(self):
        run = {**RUN, "metadata": {}}
        steps = [{**STEPS[0], "metadata": {"cost": 0.5}}, {**STEPS[1], "metadata": {"cost_usd": 0.25}}]
        assert check({"metric": "cost", "op": "eq", "value": 0.75}, run, steps).passed
        missing = check({"metric": "cost", "op": "lt", "value": 1}, run, STEPS)
        assert not missing.passed and missing.message == "the run has no cost recorded"

    def test_errors_counts_error_steps_and_run_error(self):
        steps = [*STEPS, {"step_index": 4, "step_type": "error", "name": "boom", "error": {"message": "x"}}]
        assert check({"metric": "errors", "op": "eq", "value": 2}, {**RUN, "error": {"message": "x"}}, steps).passed


class TestStepCalled:
    def test_counts(self):
        assert check({"op": "step_called", "step_type": "tool_call", "min": 2, "max": 2}).passed
        assert check({"op": "step_called", "name": "search"}).passed
        result = check({"op": "step_called", "step_type": "tool_call", "name": "rerank", "min": 1})
        assert not result.passed
        assert result.message == "tool_call 'rerank' was called 0 time(s), expected at least 1"
        too_many = check({"op": "step_called", "step_type": "llm_call", "max": 1})
        assert not too_many.passed and "expected at least 0 and at most 1" in too_many.message

    def test_order(self):
        assert check({"op": "step_called", "order": ["plan", "search", "answer"]}).passed
        assert check({"op": "step_called", "order": [{"step_type": "tool_call"}, {"step_type": "llm_call"}]}).passed
        result = check({"op": "step_called", "order": ["answer", "search"]})
        assert not result.passed
        assert "search was not called after the ones before it" in result.message
        assert result.actual["sequence"] == [
            "llm_call:plan",
            "tool_call:search",
            "tool_call:calculator",
            "llm_call:answer",
        ]


class TestNoErrors:
    def test_it_passes_on_a_clean_run(self):
        assert check({"op": "no_errors"}).passed

    def test_it_names_the_error_steps(self):
        steps = copy.deepcopy(STEPS)
        steps[2].update(status="failed", error={"message": "division by zero"})
        result = check({"op": "no_errors"}, RUN, steps)
        assert not result.passed
        assert result.message == "1 error step(s): #2 tool_call:calculator"
        assert result.actual["error_steps"][0]["error"] == {"message": "division by zero"}

    def test_a_failed_run_fails(self):
        result = check({"op": "no_errors"}, {**RUN, "status": "failed", "error": {"message": "timeout"}})
        assert not result.passed and 'the run failed: {"message": "timeout"}' in result.message


class TestAssertionEvaluator:
    def test_it_judges_every_check(self):
        config = {"assertions": [{"op": "no_errors"}, {"path": "output.answer", "op": "equals", "value": "41"}]}
        results = evaluate("assertion", config, RUN, STEPS)
        assert [r.passed for r in results] == [True, False]
        assert results[1].as_dict() == {
            "check": 'output.answer equals "41"',
            "passed": False,
            "actual": "42",
            "expected": "41",
            "message": 'expected output.answer to equal "41", got "42"',
        }


class TestComparison:
    def test_exact(self):
        expected = {"answer": "42", "sources": ["calc"], "meta": {"id": "abc", "score": 0.9}}
        assert evaluate("comparison", {"method": "exact", "expected": expected}, RUN, STEPS)[0].passed
        [result] = evaluate("comparison", {"method": "exact", "path": "output.answer", "expected": "43"}, RUN, STEPS)
        assert not result.passed and result.message == 'expected output.answer to be "43", got "42"'

    def test_json_equal_ignores_keys_and_lists_differences(self):
        expected = {"answer": "42", "sources": ["calc"], "meta": {"id": "other", "score": 0.9}}
        config = {"method": "json_equal", "expected": expected}
        [failed] = evaluate("comparison", config, RUN, STEPS)
        assert not failed.passed and failed.diff == ['output.meta.id: expected "other", got "abc"']
        assert evaluate("comparison", {**config, "ignore_keys": ["id"]}, RUN, STEPS)[0].passed

    def test_json_equal_reads_json_text(self):
        run = {**RUN, "output": '{"b": 2, "a": 1, "ts": 5}'}
        config = {"method": "json_equal", "expected": {"a": 1, "b": 2}, "ignore_keys": ["ts"]}
        assert evaluate("comparison", config, run, STEPS)[0].passed

    def test_text_similarity(self):
        run = {**RUN, "output": "The answer is 42."}
        config = {"method": "text_similarity", "expected": "The answer is 42!", "threshold": 0.9}
        [passed] = evaluate("comparison", config, run, STEPS)
        assert passed.passed and passed.actual["similarity"] > 0.9
        [failed] = evaluate("comparison", {**config, "expected": "I don't know."}, run, STEPS)
        assert not failed.passed and "below the 90% threshold" in failed.message

    def test_step_sequence_with_a_diff(self):
        expected = ["llm_call:plan", "tool_call:search", "llm_call:answer"]
        [result] = evaluate("comparison", {"method": "step_sequence", "expected": expected}, RUN, STEPS)
        assert not result.passed
        assert "+tool_call:calculator" in result.diff
        same = [*expected[:2], {"step_type": "tool_call", "name": "calculator"}, expected[2]]
        assert evaluate("comparison", {"method": "step_sequence", "expected": same}, RUN, STEPS)[0].passed

    def test_against_a_baseline_run(self):
        baseline = {"run": {**RUN, "id": "b", "output": {**RUN["output"], "answer": "41"}}, "steps": STEPS[:3]}
        [output] = evaluate(
            "comparison", {"method": "json_equal", "baseline_run_id": "b"}, RUN, STEPS, baseline=baseline
        )
        assert not output.passed and output.check == "output json_equal baseline run b"
        [steps] = evaluate(
            "comparison", {"method": "step_sequence", "baseline_run_id": "b"}, RUN, STEPS, baseline=baseline
        )
        assert not steps.passed and steps.diff[-1] == "+llm_call:answer"

    def test_a_baseline_without_the_path_is_an_evaluation_error(self):
        baseline = {"run": {**RUN, "id": "b", "output": None}, "steps": []}
        config = {"method": "exact", "path": "output.answer", "baseline_run_id": "b"}
        with pytest.raises(EvaluationError, match=r"the baseline run has no output\.answer"):
            evaluate("comparison", config, RUN, STEPS, baseline=baseline)


class TestCustom:
    @pytest.mark.parametrize(
        ("expression", "passed"),
        [
            ("run.output.answer == '42'", True),
            ("length(steps[?step_type=='tool_call']) <= `2`", True),
            ("length(steps[?step_type=='tool_call']) < `2`", False),
            ("steps[?name=='rerank']", False),
            ("run.metadata.env", True),
            ("`0`", True),
        ],
    )
    def test_it_needs_a_truthy_value(self, expression, passed):
        [result] = evaluate("custom", {"expression": expression}, RUN, STEPS)
        assert result.passed is passed

    def test_a_type_error_is_an_evaluation_error(self):
        with pytest.raises(EvaluationError, match="the expression failed on this run"):
            evaluate("custom", {"expression": "length(run.duration_ms)"}, RUN, STEPS)
