"""The server's side of the breakpoint-matching cases the SDK is tested against too
(sdk/tests/cases/breakpoint_matching.json): one file, so the two matchers can't drift apart."""

import json
from pathlib import Path

import pytest
from django.conf import settings

from apps.breakpoints.matching import breakpoint_match
from apps.breakpoints.models import Breakpoint, ConditionType

CASES = json.loads((Path(settings.BASE_DIR) / "sdk" / "tests" / "cases" / "breakpoint_matching.json").read_text())


@pytest.mark.parametrize("case", CASES["cases"], ids=lambda case: case["name"])
def test_the_server_matches_as_the_case_says(case):
    breakpoint = Breakpoint(**case["breakpoint"])

    matched = breakpoint_match(breakpoint=breakpoint, step=CASES["steps"][case["step"]], run=CASES["runs"][case["run"]])

    assert matched is case["match"]


def test_the_cases_cover_every_condition_type_the_server_knows():
    assert {case["breakpoint"]["condition_type"] for case in CASES["cases"]} >= set(ConditionType.values)
