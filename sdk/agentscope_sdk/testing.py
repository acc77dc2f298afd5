"""`agentscope test`: run an agent on the inputs of the project's tests and report their verdicts.

    agentscope test --agent examples.research_agent:research [--test NAME] [--project NAME]

With the API key (its project's tests), it fetches the enabled tests that carry an `input`, imports
the agent, and runs it once per test under a run of the test's target agent (the test's target
metadata and `agentscope_test: {test_id, test_name}` as the run's metadata). The input is passed as
keyword arguments when it is an object whose keys the function's signature takes, otherwise as
the one positional argument; an async function is run with `asyncio.run`. When the run has reached
the server, the server's tests judge it as they judge every run that ends, and the command waits
for that test's verdict. It prints one line per test, the failing checks, and a summary; exits 0
when every test passed, 1 when one failed or could not be judged, 2 on a usage or connection error.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from agentscope_sdk._agents import UsageError, call_agent, load_agent
from agentscope_sdk._version import __version__
from agentscope_sdk.client import DEFAULT_BASE_URL, Client, configure
from agentscope_sdk.control import Aborted

EXIT_PASSED, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
TESTS_PATH = "/api/ingest/tests"
TEST_RUNS_PATH = "/api/ingest/test-runs"


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "test",
        help="run an agent on the project's tests and report their verdicts",
        description="Run an agent on the inputs of the project's tests and report their verdicts (exit 0: all "
        "passed, 1: a test failed or could not be judged, 2: a usage or connection error).",
    )
    parser.add_argument(
        "--agent", required=True, metavar="MODULE:FUNCTION", help="the agent, e.g. my_pkg.agent:run or agent.py:run"
    )
    parser.add_argument("--test", metavar="NAME", help="only the test of this name")
    parser.add_argument("--project", metavar="NAME_OR_ID", help="fail unless the API key is this project's")
    parser.add_argument("--base-url", default=os.environ.get("AGENTSCOPE_BASE_URL", DEFAULT_BASE_URL))
    parser.add_argument("--api-key", default=os.environ.get("AGENTSCOPE_API_KEY"))
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for each verdict (default 60)")
    parser.set_defaults(handler=command)


def command(args: argparse.Namespace) -> int:
    try:
        return Session(args).run()
    except UsageError as exc:
        print(f"agentscope test: {exc}", file=sys.stderr)
        return EXIT_USAGE


# The server --------------------------------------------------------------------------------------


class Server:
    """The API-key endpoints the command reads."""

    def __init__(self, base_url: str, api_key: str):
        self.base_url = base_url
        headers = {"X-Agentscope-Key": api_key, "User-Agent": f"agentscope-sdk/{__version__}"}
        self.http = httpx.Client(base_url=base_url, headers=headers, timeout=httpx.Timeout(15.0, connect=5.0))

    def get(self, path: str, **params: Any) -> dict:
        try:
            response = self.http.get(path, params=params)
        except httpx.HTTPError as exc:
            raise UsageError(f"{self.base_url} is unreachable ({type(exc).__name__}: {exc})") from exc
        if response.status_code == 401:
            raise UsageError("the server refused the API key (HTTP 401): set AGENTSCOPE_API_KEY or --api-key")
        if response.status_code != 200:
            raise UsageError(f"GET {path} answered HTTP {response.status_code}: {response.text[:300]}")
        return response.json()

    def tests(self, name: str | None) -> list[dict]:
        tests, page = [], 1
        while True:
            params = {"page": page, "page_size": 200, **({"name": name} if name else {})}
            answer = self.get(TESTS_PATH, **params)
            tests.extend(answer.get("results") or [])
            if not answer.get("next"):
                return tests
            page += 1

    def verdict(self, run_id: str, test_id: str, timeout: float) -> dict | None:
        """The test's verdict on the run once there is one (a skipped one only if nothing better came)."""
        deadline, delay, skipped = time.monotonic() + timeout, 0.1, None
        while True:
            try:
                results = self.get(TEST_RUNS_PATH, run_id=run_id, test_id=test_id).get("results") or []
            except UsageError:  # the run isn't there yet, or a passing network error: try again
                results = []
            judged = [result for result in results if result.get("status") != "skipped"]
            if judged:
                return judged[0]
            skipped = results[0] if results else skipped
            if time.monotonic() >= deadline:
                return skipped
            time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
            delay = min(delay * 2, 1.0)

    def close(self) -> None:
        self.http.close()


# The session -------------------------------------------------------------------------------------


@dataclass
class Outcome:
    name: str
    status: str  # PASSED, FAILED or ERROR
    seconds: float
    details: list[str] = field(default_factory=list)


class Session:
    def __init__(self, args: argparse.Namespace):
        if not args.api_key:
            raise UsageError("no API key: set AGENTSCOPE_API_KEY or pass --api-key")
        self.args = args
        self.base_url = args.base_url.rstrip("/")
        self.agent = load_agent(args.agent)
        self.server = Server(self.base_url, args.api_key)

    def run(self) -> int:
        started = time.perf_counter()
        try:
            tests = self._tests()
            print(f"agentscope test: {len(tests)} test(s) of project {tests[0]['project_name']!r} on {self.base_url}")
            # The default client too, for agent code that records outside the run (another thread).
            client = configure(self.args.api_key, self.base_url, flush_interval=0.1)
            try:
                outcomes = [self._report(self._one(client, test)) for test in tests]
            finally:
                client.close()
        finally:
            self.server.close()
        return _summary(outcomes, time.perf_counter() - started)

    def _tests(self) -> list[dict]:
        tests = self.server.tests(self.args.test)
        if not tests:
            which = f"named {self.args.test!r}" if self.args.test else "that is enabled and has an input"
            raise UsageError(f"the API key's project has no test {which}")
        wanted = self.args.project
        project = {tests[0].get("project_id"), tests[0].get("project_name")}
        if wanted and wanted not in project:
            raise UsageError(f"the API key belongs to project {tests[0].get('project_name')!r}, not {wanted!r}")
        return tests

    def _one(self, client: Client, test: dict) -> Outcome:
        started = time.perf_counter()
        agent_name = test.get("agent_name")
        if not agent_name:
            return Outcome(test["name"], "ERROR", 0.0, ["the test's target names no agent_name"])
        target = test.get("target") or {}
        metadata = {
            **(target.get("metadata") or {}),
            "agentscope_test": {"test_id": test["id"], "test_name": test["name"]},
        }
        details = []
        run = client.run(agent_name, input=test["input"], metadata=metadata)
        try:
            with run:
                run.set_output(call_agent(self.agent, test["input"]))
        except (Exception, Aborted) as exc:
            details.append(f"the agent raised {type(exc).__name__}: {exc}")
        if not client.flush(timeout=self.args.timeout):
            details.append("the run could not be delivered to the server; see the warnings above")
            return Outcome(test["name"], "ERROR", time.perf_counter() - started, details)
        verdict = self.server.verdict(run.id, test["id"], self.args.timeout)
        details.append(f"run: {self.base_url}/runs/{run.id}")
        return _judged(test["name"], verdict, details, time.perf_counter() - started, self.args.timeout)

    def _report(self, outcome: Outcome) -> Outcome:
        print(f"{outcome.name} {outcome.status} ({outcome.seconds:.2f}s)")
        if outcome.status != "PASSED":
            for line in outcome.details:
                print(f"    {line}")
        sys.stdout.flush()
        return outcome


def _judged(name: str, verdict: dict | None, details: list[str], seconds: float, timeout: float) -> Outcome:
    if verdict is None:
        reason = f"no verdict within {timeout:g}s: is the server's task worker running (manage.py db_worker)?"
        return Outcome(name, "ERROR", seconds, [reason, *details])
    result = verdict.get("result") or {}
    status = verdict.get("status")
    if status == "passed":
        return Outcome(name, "PASSED", seconds, details)
    if status == "failed":
        failing = [check for check in result.get("checks") or [] if not check.get("passed")]
        lines = [f"{check.get('check')}: {check.get('message')}" for check in failing]
        return Outcome(name, "FAILED", seconds, [*lines, *details])
    reason = (verdict.get("error") or {}).get("message") or result.get("summary") or status
    return Outcome(name, "ERROR", seconds, [f"{status}: {reason}", *details])


def _summary(outcomes: list[Outcome], seconds: float) -> int:
    counts = {status: sum(1 for o in outcomes if o.status == status) for status in ("PASSED", "FAILED", "ERROR")}
    line = f"{counts['PASSED']} passed, {counts['FAILED']} failed"
    if counts["ERROR"]:
        line += f", {counts['ERROR']} error{'s' if counts['ERROR'] > 1 else ''}"
    print(f"{'=' * 20} {line} in {seconds:.2f}s {'=' * 20}")
    return EXIT_PASSED if counts["PASSED"] == len(outcomes) else EXIT_FAILED
