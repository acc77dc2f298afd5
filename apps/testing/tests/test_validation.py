"""Bad configs of each kind are refused with a 400 naming the bad part."""

import time
import uuid

import pytest

from apps.core.errors import ApplicationError
from apps.testing import regexes
from apps.testing.models import Test
from apps.testing.validation import validate_config

pytestmark = pytest.mark.django_db
TARGET = {"agent_name": "support-bot"}


def errors_of(project, test_type, **config):
    with pytest.raises(ApplicationError) as caught:
        validate_config(test_type=test_type, config={"target": TARGET, **config}, project=project)
    return caught.value.errors


def assertion_errors(project, *checks):
    return errors_of(project, "assertion", assertions=list(checks))


class TestCommon:
    def test_a_good_config_passes(self, project):
        config = {
            "target": {**TARGET, "metadata": {"env": "prod"}},
            "input": {"q": 1},
            "assertions": [{"op": "no_errors"}],
        }
        assert validate_config(test_type="assertion", config=config, project=project) == config

    def test_it_needs_a_target(self, project):
        with pytest.raises(ApplicationError) as caught:
            validate_config(test_type="custom", config={"expression": "run"}, project=project)
        assert "config.target" in caught.value.errors

    @pytest.mark.parametrize(
        ("target", "key"),
        [
            ({"agent_name": ""}, "config.target.agent_name"),
            ({"agent": "x"}, "config.target.agent"),
            ({**TARGET, "metadata": ["env"]}, "config.target.metadata"),
            ({**TARGET, "metadata": {"env": {"a": 1}}}, "config.target.metadata.env"),
        ],
    )
    def test_it_checks_the_target(self, project, target, key):
        with pytest.raises(ApplicationError) as caught:
            validate_config(test_type="custom", config={"target": target, "expression": "run"}, project=project)
        assert key in caught.value.errors

    def test_it_refuses_unknown_types_and_non_objects(self, project):
        with pytest.raises(ApplicationError) as caught:
            validate_config(test_type="fuzz", config=[], project=project)
        assert set(caught.value.errors) == {"test_type", "config"}
        assert caught.value.errors["test_type"] == [
            "unknown test type 'fuzz'; use one of assertion, comparison, custom"
        ]


class TestAssertionConfigs:
    def test_an_unknown_op_names_the_check_and_the_choices(self, project):
        errors = assertion_errors(
            project, {"op": "no_errors"}, {"op": "no_errors"}, {"path": "output.answer", "op": "equal", "value": "42"}
        )
        assert errors == {
            "config.assertions[2].op": [
                "unknown op 'equal'; use one of equals, contains, not_contains, matches, matches_schema"
            ]
        }

    @pytest.mark.parametrize(
        ("check", "key", "message"),
        [
            (
                {"path": "outptu.answer", "op": "equals", "value": 1},
                "config.assertions[0].path",
                "unknown root 'outptu'",
            ),
            ({"path": "output", "op": "equals"}, "config.assertions[0].value", "equals needs a value"),
            (
                {"path": "output", "op": "matches", "value": "(unclosed"},
                "config.assertions[0].value",
                "invalid regular",
            ),
            (
                {"path": "output", "op": "matches_schema", "value": {"type": "strnig"}},
                "config.assertions[0].value",
                "invalid JSON Schema",
            ),
            (
                {"path": "output", "op": "matches_schema", "value": "string"},
                "config.assertions[0].value",
                "a JSON Schema",
            ),
            ({"metric": "latency", "op": "lt", "value": 1}, "config.assertions[0].metric", "unknown metric 'latency'"),
            ({"metric": "tokens", "op": "<", "value": 1}, "config.assertions[0].op", "use one of lt, lte, gt, gte, eq"),
            ({"metric": "tokens", "op": "lt", "value": "5"}, "config.assertions[0].value", "compared with a number"),
            ({"op": "step_called"}, "config.assertions[0]", "say which steps"),
            ({"op": "step_called", "step_type": "tool"}, "config.assertions[0].step_type", "unknown step type 'tool'"),
            ({"op": "step_called", "name": "s", "min": -1}, "config.assertions[0].min", "a whole number"),
            ({"op": "step_called", "name": "s", "min": 3, "max": 1}, "config.assertions[0].max", "below min"),
            ({"op": "step_called", "order": [1]}, "config.assertions[0].order[0]", "step names"),
            ({"op": "no_errors", "value": True}, "config.assertions[0].value", "unknown key 'value'"),
            ({"value": 1}, "config.assertions[0].op", "missing op"),
            ("no_errors", "config.assertions[0]", "a check is an object"),
        ],
    )
    def test_bad_checks_are_named(self, project, check, key, message):
        errors = assertion_errors(project, check)
        assert key in errors, errors
        assert message in errors[key][0]

    def test_it_needs_checks(self, project):
        assert "config.assertions" in errors_of(project, "assertion", assertions=[])
        assert "config.assertions" in errors_of(project, "assertion")


class TestPathologicalRegexes:
    @pytest.mark.parametrize("pattern", [r"(a+)+$", r"(a*)*b", r"^(\w+\s?)+$", r"(x+x+)+y", r"(?:a{2,})+"])
    def test_nested_quantifiers_are_refused(self, project, pattern):
        errors = assertion_errors(project, {"path": "output", "op": "matches", "value": pattern})
        assert "nested quantifiers" in errors["config.assertions[0].value"][0]

    def test_a_schema_pattern_is_held_to_the_same_rules(self, project):
        schema = {"type": "object", "properties": {"a": {"type": "string", "pattern": "(a+)+$"}}}
        errors = assertion_errors(project, {"path": "output", "op": "matches_schema", "value": schema})
        assert "nested quantifiers" in errors["config.assertions[0].value"][0]

    def test_a_long_pattern_is_refused(self, project):
        errors = assertion_errors(project, {"path": "output", "op": "matches", "value": "a" * 501})
        assert "the limit is 500" in errors["config.assertions[0].value"][0]

    def test_plain_patterns_are_accepted(self, project):
        for pattern in [r"^\d+$", r"(ab)+c", r"(a|b)*c", r"\p{L}+", r"[A-Z][a-z]+ \d{4}"]:
            regexes.check_pattern(pattern)

    def test_a_slow_pattern_that_passes_the_check_is_stopped_in_time(self):
        # Overlapping alternatives backtrack exponentially without nesting a quantified quantifier.
        regexes.check_pattern(r"(a|aa)+$")
        started = time.perf_counter()
        with pytest.raises(regexes.RegexTooSlow, match="was stopped"):
            regexes.search(r"(a|aa)+$", "a" * 5000 + "b")
        assert time.perf_counter() - started < 2

    def test_the_text_is_capped(self):
        with pytest.raises(regexes.RegexTooSlow, match="matching is limited to 100000"):
            regexes.search("a", "b" * 100_001)


class TestComparisonConfigs:
    @pytest.mark.parametrize(
        ("config", "key", "message"),
        [
            ({"method": "same", "expected": 1}, "config.method", "unknown method 'same'; use one of exact, json_equal"),
            ({"method": "exact"}, "config.expected", "either expected"),
            ({"method": "exact", "expected": 1, "baseline_run_id": str(uuid.uuid4())}, "config.expected", "either"),
            ({"method": "exact", "baseline_run_id": "nope"}, "config.baseline_run_id", "a run id"),
            ({"method": "exact", "expected": 1, "path": "result"}, "config.path", "unknown root"),
            ({"method": "exact", "expected": 1, "ignore_keys": ["id"]}, "config.ignore_keys", "json_equal only"),
            ({"method": "json_equal", "expected": 1, "ignore_keys": "id"}, "config.ignore_keys", "list of key names"),
            ({"method": "text_similarity", "expected": "x", "threshold": 1.5}, "config.threshold", "at most 1"),
            (
                {"method": "step_sequence", "expected": ["tool:search"]},
                "config.expected[0]",
                "unknown step type 'tool'",
            ),
            ({"method": "step_sequence", "expected": ["llm_call"], "path": "output"}, "config.path", "remove path"),
        ],
    )
    def test_bad_comparisons_are_named(self, project, config, key, message):
        errors = errors_of(project, "comparison", **config)
        assert key in errors, errors
        assert message in errors[key][0]

    def test_the_baseline_must_be_in_the_same_project(self, project, bob_project, make_run):
        bobs = make_run(project=bob_project)
        errors = errors_of(project, "comparison", method="exact", baseline_run_id=str(bobs.pk))
        assert errors == {"config.baseline_run_id": ["no run with this id in the test's project"]}
        mine = make_run()
        validate_config(
            test_type="comparison",
            config={"target": TARGET, "method": "exact", "baseline_run_id": str(mine.pk)},
            project=project,
        )


class TestCustomConfigs:
    @pytest.mark.parametrize("expression", ["run.output.[", "length(", "steps[?name==]", ""])
    def test_invalid_jmespath_is_refused(self, project, expression):
        errors = errors_of(project, "custom", expression=expression)
        assert list(errors) == ["config.expression"]

    def test_the_message_says_what_is_wrong(self, project):
        [message] = errors_of(project, "custom", expression="run.output.[")["config.expression"]
        assert message.startswith("invalid JMESPath:") and "\n" not in message


class TestThroughTheApi:
    def test_create_answers_400_naming_the_check(self, api, project):
        config = {
            "target": TARGET,
            "assertions": [{"op": "no_errors"}, {"path": "output.x", "op": "equal", "value": 1}],
        }
        response = api.post(
            "/api/tests",
            {"project_id": str(project.pk), "name": "t", "test_type": "assertion", "config": config},
            format="json",
        )
        assert response.status_code == 400
        body = response.json()
        assert body["detail"].startswith("config.assertions[1].op: unknown op 'equal'")
        assert list(body["errors"]) == ["config.assertions[1].op"]
        assert not Test.objects.exists()

    def test_update_validates_too(self, api, assertion_test):
        response = api.patch(
            f"/api/tests/{assertion_test.pk}",
            {"test_type": "custom", "config": {"target": TARGET, "expression": "a["}},
            format="json",
        )
        assert response.status_code == 400
        assert "config.expression" in response.json()["errors"]
        assertion_test.refresh_from_db()
        assert assertion_test.test_type == "assertion"

    def test_changing_only_the_type_checks_the_config_against_it(self, api, assertion_test):
        response = api.patch(f"/api/tests/{assertion_test.pk}", {"test_type": "custom"}, format="json")
        assert response.status_code == 400
        assert "config.expression" in response.json()["errors"]
