from datetime import timedelta

import pytest
from django.utils import timezone

from apps.breakpoints.matching import breakpoint_match, custom_evaluate, jmespath_truthy, run_context, step_context
from apps.breakpoints.models import Breakpoint
from apps.breakpoints.validation import condition_validate
from apps.core.errors import ApplicationError
from apps.runs.models import Run, RunStep

STEP = {
    "step_type": "tool_call",
    "name": "search_web",
    "status": "running",
    "input": {"query": "weather in Paris", "limit": 3},
    "metadata": {"model": "gpt-x"},
    "step_index": 4,
    "error": None,
}
RUN = {"agent_name": "researcher", "total_tokens": 1200, "step_count": 5, "duration_ms_so_far": 8000}


def matches(condition_type, condition_value, step=STEP, run=RUN, agent_name=None) -> bool:
    breakpoint = Breakpoint(condition_type=condition_type, condition_value=condition_value, agent_name=agent_name)
    return breakpoint_match(breakpoint=breakpoint, step=step, run=run)


class TestStepType:
    def test_it_matches_the_type(self):
        assert matches("step_type", {"step_type": "tool_call"})

    def test_it_ignores_other_types(self):
        assert not matches("step_type", {"step_type": "llm_call"})


class TestStepName:
    def test_exact_matches_only_the_whole_name(self):
        assert matches("step_name", {"pattern": "search_web", "match": "exact"})
        assert not matches("step_name", {"pattern": "search", "match": "exact"})

    def test_glob_matches_a_pattern(self):
        assert matches("step_name", {"pattern": "search*", "match": "glob"})
        assert matches("step_name", {"pattern": "*_w?b", "match": "glob"})
        assert not matches("step_name", {"pattern": "fetch*", "match": "glob"})

    def test_glob_is_case_sensitive(self):
        assert not matches("step_name", {"pattern": "Search*", "match": "glob"})

    def test_a_step_without_a_name_matches_nothing_but_a_star(self):
        nameless = {**STEP, "name": None}
        assert not matches("step_name", {"pattern": "search*", "match": "glob"}, step=nameless)
        assert matches("step_name", {"pattern": "*", "match": "glob"}, step=nameless)


class TestCustom:
    def test_it_breaks_on_a_tools_argument(self):
        expression = "step.name == 'search_web' && contains(step.input.query, 'Paris')"
        assert matches("custom", {"expression": expression})
        assert not matches("custom", {"expression": expression.replace("Paris", "Rome")})

    def test_it_breaks_on_tokens_and_latency_so_far(self):
        assert matches("custom", {"expression": "run.total_tokens > `1000`"})
        assert not matches("custom", {"expression": "run.total_tokens > `5000`"})
        assert matches("custom", {"expression": "run.duration_ms_so_far >= `8000` && run.step_count > `4`"})

    def test_it_follows_jmespath_truth(self):
        assert matches("custom", {"expression": "step.step_index"})  # 4 is true
        assert matches("custom", {"expression": "`0`"})  # so is 0, unlike in Python
        assert not matches("custom", {"expression": "step.error"})
        assert not matches("custom", {"expression": "step.missing"})
        assert not matches("custom", {"expression": "`[]`"})
        assert [jmespath_truthy(v) for v in (0, False, "", {}, "x", [0])] == [True, False, False, False, True, True]

    @pytest.mark.parametrize(
        "expression",
        [
            "length(step.step_index)",  # wrong type at evaluation
            "step.input.query > `3`",  # comparing a string with a number
            "nosuchfunction(step)",  # unknown function, only found when evaluated
            "step.",  # does not even parse (never saved, but must not raise)
        ],
    )
    def test_evaluation_errors_are_no_match_and_never_raise(self, expression):
        assert not matches("custom", {"expression": expression})

    def test_custom_evaluate_reports_the_value_or_the_error(self):
        assert custom_evaluate(expression="step.input.limit", step=STEP, run=RUN) == (3, None)
        value, error = custom_evaluate(expression="length(step.step_index)", step=STEP, run=RUN)
        assert value is None and "length()" in error


class TestOnError:
    def test_it_matches_a_step_that_ended_in_an_error(self):
        assert matches("on_error", {}, step={**STEP, "status": "failed", "error": {"message": "timeout"}})
        assert matches("on_error", {}, step={**STEP, "status": "completed", "error": {"message": "boom"}})
        assert matches("on_error", {}, step={**STEP, "step_type": "error", "status": "completed"})

    def test_it_ignores_a_healthy_step(self):
        assert not matches("on_error", {}, step={**STEP, "status": "completed", "output": {"ok": 1}})


class TestAgentScope:
    def test_it_matches_only_the_named_agent(self):
        assert matches("step_type", {"step_type": "tool_call"}, agent_name="researcher")
        assert not matches("step_type", {"step_type": "tool_call"}, agent_name="writer")
        assert not matches("step_type", {"step_type": "tool_call"}, run={**RUN, "agent_name": None}, agent_name="x")

    def test_no_scope_matches_every_agent(self):
        assert matches("step_type", {"step_type": "tool_call"}, run={**RUN, "agent_name": "writer"})


def test_an_unknown_condition_type_or_a_broken_value_matches_nothing():
    assert not matches("nonsense", {"step_type": "tool_call"})
    assert not matches("step_name", None)


def test_contexts_expose_what_expressions_need():
    started = timezone.now() - timedelta(seconds=3)
    run = Run(agent_name="researcher", input={"q": 1}, metadata={"env": "ci"}, total_tokens=7, started_at=started)
    step = RunStep(run=run, step_index=2, step_type="tool_call", name="search", input={"query": "x"})
    run_data = run_context(run, now=started + timedelta(milliseconds=2500))
    assert run_data["duration_ms_so_far"] == 2500
    assert {k: run_data[k] for k in ("agent_name", "input", "metadata", "total_tokens")} == {
        "agent_name": "researcher",
        "input": {"q": 1},
        "metadata": {"env": "ci"},
        "total_tokens": 7,
    }
    assert step_context(step)["input"] == {"query": "x"} and step_context(step)["step_index"] == 2


class TestValidation:
    @pytest.mark.parametrize(
        ("condition_type", "value", "expected"),
        [
            ("step_type", {"step_type": "tool_call"}, {"step_type": "tool_call"}),
            ("step_name", {"pattern": "search*", "match": "glob"}, {"pattern": "search*", "match": "glob"}),
            ("step_name", {"pattern": "search"}, {"pattern": "search", "match": "exact"}),
            ("custom", {"expression": "run.total_tokens > `10`"}, {"expression": "run.total_tokens > `10`"}),
            ("on_error", {}, {}),
            ("on_error", None, {}),
        ],
    )
    def test_it_accepts_and_normalises(self, condition_type, value, expected):
        assert condition_validate(condition_type=condition_type, condition_value=value) == expected

    @pytest.mark.parametrize(
        ("condition_type", "value", "field", "words"),
        [
            ("step_type", {"step_type": "tool"}, "condition_value", "step_type must be one of"),
            ("step_type", {"step_type": "tool_call", "x": 1}, "condition_value", "unknown key(s) x"),
            ("step_name", {"pattern": ""}, "condition_value", "pattern is required"),
            ("step_name", {"pattern": "a", "match": "regex"}, "condition_value", 'match must be "exact" or "glob"'),
            ("custom", {"expression": "step.["}, "condition_value", "not valid JMESPath"),
            ("custom", {"expression": "nosuch(step)"}, "condition_value", "unknown function nosuch()"),
            ("custom", {"expression": "length(step, run)"}, "condition_value", "length() takes 1 argument(s), got 2"),
            ("custom", {"expression": "x" * 2001}, "condition_value", "at most 2000"),
            ("custom", {}, "condition_value", "expression is required"),
            ("on_error", {"step_type": "x"}, "condition_value", "unknown key(s)"),
            ("step_type", ["tool_call"], "condition_value", "must be a JSON object"),
            ("step_type", None, "condition_value", "required"),
            ("breakpoint", {}, "condition_type", "must be one of"),
        ],
    )
    def test_it_refuses_naming_the_field(self, condition_type, value, field, words):
        with pytest.raises(ApplicationError) as caught:
            condition_validate(condition_type=condition_type, condition_value=value)
        assert list(caught.value.errors) == [field]
        assert words in caught.value.errors[field][0]
