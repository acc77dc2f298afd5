"""The SDK's side of the breakpoint-matching cases (cases/breakpoint_matching.json), which the
server's matcher is tested against too (apps/breakpoints/tests/test_matching_cases.py)."""

import json
from pathlib import Path

import pytest

from agentscope_sdk.breakpoints import Rule

CASES = json.loads((Path(__file__).parent / "cases" / "breakpoint_matching.json").read_text())


def sdk_may_stop(rule: Rule, step: dict, run: dict) -> bool:
    """What the SDK asks: before the step runs, or after it raised."""
    if step.get("error") or step.get("status") == "failed":
        return rule.may_stop_after_error(run.get("agent_name"))
    return rule.may_stop(run.get("agent_name"), step["step_type"], step.get("name"))


@pytest.mark.parametrize("case", CASES["cases"], ids=lambda case: case["name"])
def test_the_sdk_may_stop_as_the_case_says(case):
    rule = Rule.parse(case["breakpoint"])

    assert sdk_may_stop(rule, CASES["steps"][case["step"]], CASES["runs"][case["run"]]) is case["may_stop"]


def test_no_case_has_the_sdk_miss_a_step_the_server_stops():
    missed = [case["name"] for case in CASES["cases"] if case["match"] and not case["may_stop"]]
    assert not missed


def test_the_cases_cover_every_condition_type_and_an_unknown_one():
    kinds = {case["breakpoint"]["condition_type"] for case in CASES["cases"]}
    assert {"step_type", "step_name", "custom", "on_error"} < kinds
    assert kinds - {"step_type", "step_name", "custom", "on_error"}
