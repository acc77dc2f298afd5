"""Replay mode: run an agent again on a replay run the server prepared, from the step it forks at.

    agentscope replay <replay_run_id> --agent examples.research_agent:research
    client.replay(replay_run_id, agent=research)

The replay run exists already (`POST /api/runs/{id}/replay` made it, with copies of the recorded
steps before the fork). Replay claims its plan (`POST /api/ingest/run/{id}/replay-plan`), then calls
the agent with the run's input inside that run. Each instrumented step before the fork is matched
with the recording by position, type and name, and answered from it without executing: it returns
the recorded output, or raises the recorded error (a builtin exception type is raised as itself, so
the agent's `except TimeoutError:` still catches it). Steps nested in a replayed step are part of
its answer. A step that doesn't match is reported (a warning, and `replay.diverged_at` in the run's
metadata) and the replay goes live from there. From the fork on every step executes live and is
recorded into the replay run, after the copies: step `n` with the replay's `step_input` as its
arguments, or answered with its `step_output` without executing. Breakpoints work as in any run.

A step written with `with run.step(...)` can't be kept from executing: before the fork its
`skipped` is true and `output` holds the recorded output, for the block to use.
"""

from __future__ import annotations

import argparse
import builtins
import logging
import os
import sys
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from agentscope_sdk._agents import UsageError, call_agent, load_agent
from agentscope_sdk.client import DEFAULT_BASE_URL, Client, configure
from agentscope_sdk.control import Aborted, Decision
from agentscope_sdk.tracing import Run, _current_step

if TYPE_CHECKING:
    from agentscope_sdk.tracing import Step

logger = logging.getLogger("agentscope_sdk")

PLAN_PATH = "/api/ingest/run/{run_id}/replay-plan"


class ReplayError(Exception):
    """The replay can't start: no such replay run, already replayed, the server unreachable."""


class ReplayedError(Exception):
    """An error the recording holds, raised again in the replay without executing the step."""

    def __init__(self, error: Any):
        error = error if isinstance(error, dict) else {"message": str(error)}
        super().__init__(error.get("message") or "")
        self.recorded = error


def recorded_exception(error: Any) -> BaseException:
    """The recorded error as an exception: of the builtin type it names when there is one."""
    name = error.get("type") if isinstance(error, dict) else None
    builtin = getattr(builtins, name, None) if isinstance(name, str) else None
    if isinstance(builtin, type) and issubclass(builtin, Exception) and builtin is not Exception:
        try:
            kind = type(name, (builtin, ReplayedError), {})
            exc = kind.__new__(kind)
            builtin.__init__(exc, error.get("message") or "")
            exc.recorded = error
            return exc
        except TypeError:  # a builtin that can't be combined: the plain replayed error
            pass
    return ReplayedError(error)


@dataclass
class ReplayResult:
    run_id: str
    status: str  # completed or failed
    output: Any
    error: BaseException | None
    replayed: int  # steps answered from the recording
    live: int  # steps executed
    diverged_at: int | None


class Replay:
    """The plan of one replay run and how far the agent has come through it."""

    def __init__(self, run: Run, plan: dict[str, Any]):
        self.run = run
        self.plan = plan
        self.steps: list[dict[str, Any]] = plan.get("steps") or []
        self.fork: int = plan["from_step"]
        self.position = 0  # the next recorded step to match
        self.diverged_at: int | None = None
        self.replayed = self.live = 0
        self.root_adopted = False
        self._lock = threading.Lock()

    def adopt_root(self, name: str) -> bool:
        """Whether the agent's own `@trace` is this run (not a step of it), as it was when recorded."""
        with self._lock:
            if self.root_adopted or _current_step.get() is not None or name != self.run.agent_name:
                return False
            first = self.steps[0] if self.steps else self.plan.get("fork") or {}
            if (first.get("type"), first.get("name")) == ("custom", name):
                return False  # the recording has the trace as a step: match it as one
            self.root_adopted = True
            return True

    def intercept(self, step: Step) -> bool:
        """Called as a step starts. True: answered from the recording (not executed, not posted)."""
        with self._lock:
            if self.diverged_at is not None or self.position > self.fork:
                self.live += 1
                return False
            if self.position >= len(self.steps):  # the fork step
                return self._fork(step)
            recorded = self.steps[self.position]
            if (recorded.get("type"), recorded.get("name")) != (step.step_type, step.name):
                self._diverge(step.step_type, step.name, recorded)
                self.live += 1
                return False
            if recorded.get("contains_fork"):  # the fork is inside: run it, as the copy already stored
                step.id, step.reentered = recorded["id"], True
                self.position += 1
                self.live += 1
                return False
            self.position = self._past_subtree(self.position)
            self.replayed += 1
        step.replayed = step.skipped = True
        step.output = recorded.get("output")
        if recorded.get("error") is not None:
            step.replay_error = recorded_exception(recorded["error"])
        return True

    def _fork(self, step: Step) -> bool:
        fork = self.plan.get("fork") or {}
        if (fork.get("type"), fork.get("name")) != (step.step_type, step.name):
            self._diverge(step.step_type, step.name, fork)
            self.live += 1
            return False
        self.position += 1
        self.live += 1
        if self.plan.get("has_step_input"):
            step.input = self.plan.get("step_input")
            step.decision = Decision("continue", edited=True, input=step.input)
        if self.plan.get("has_step_output"):
            step.skipped, step.output = True, self.plan.get("step_output")
        return False

    def _past_subtree(self, position: int) -> int:
        """The position after the recorded step at `position` and the steps nested in it."""
        inside = {self.steps[position]["id"]}
        after = position + 1
        while after < len(self.steps) and self.steps[after].get("parent_id") in inside:
            inside.add(self.steps[after]["id"])
            after += 1
        return after

    def _diverge(self, step_type: str | None, name: str | None, recorded: dict[str, Any]) -> None:
        self.diverged_at = self.position
        expected = f"{recorded.get('type')} {recorded.get('name')!r}" if recorded else "the end of the run"
        got = f"{step_type} {name!r}" if step_type else "the end of the run"
        logger.warning(
            "AgentScope replay: step %d is %s, the recording has %s there; replaying live from here",
            self.position,
            got,
            expected,
        )
        settings = (self.run.metadata or {}).get("replay") or {}
        divergence = {"diverged_at": self.position, "expected": expected, "got": got}
        self.run.update(metadata={"replay": {**settings, **divergence}})

    def finish(self) -> None:
        """The agent returned: a recording it never reached the fork of has diverged too."""
        with self._lock:
            if self.diverged_at is None and self.position <= self.fork:
                recorded = self.steps[self.position] if self.position < len(self.steps) else self.plan.get("fork")
                self._diverge(None, None, recorded or {})


def fetch_plan(client: Client, run_id: str) -> dict[str, Any]:
    """Claims the replay run's plan: it goes from pending to running."""
    if not client.api_key:
        raise ReplayError("no API key: set AGENTSCOPE_API_KEY or pass --api-key")
    url = client.base_url + PLAN_PATH.format(run_id=run_id)
    try:
        response = httpx.post(url, headers={"X-Agentscope-Key": client.api_key}, timeout=15)
    except httpx.HTTPError as exc:
        raise ReplayError(f"{client.base_url} is unreachable ({type(exc).__name__}: {exc})") from exc
    if response.status_code == 200:
        return response.json()
    try:
        detail = response.json().get("detail")
    except ValueError:
        detail = response.text[:300]
    if response.status_code == 404:
        detail = f"no run {run_id} in the API key's project"
    raise ReplayError(f"the replay plan was refused (HTTP {response.status_code}): {detail}")


def replay_run(
    client: Client, run_id: str, agent: Any, *, entrypoint: str | None = None, timeout: float = 30.0
) -> ReplayResult:
    """Runs `agent` as the replay run `run_id`; waits (at most `timeout` s) until it is recorded."""
    if not client.enabled:
        raise ReplayError("the client is disabled (no API key?): nothing could be recorded")
    plan = fetch_plan(client, run_id)
    spec = plan["run"]
    run = Run(client, spec.get("agent_name") or "agent", input=spec.get("input"), metadata=spec.get("metadata"))
    run.id = str(spec["id"])
    run.replay = replay = Replay(run, plan)
    output, error = None, None
    try:
        with run:  # creating it is a no-op on the server: the run exists, with its copied steps
            if entrypoint:
                run.update(metadata={"agent_entrypoint": entrypoint})
            output = call_agent(agent, spec.get("input"))
            replay.finish()
            run.set_output(output)
    except (Exception, Aborted) as exc:
        error = exc
    client.flush(timeout)
    return ReplayResult(
        run_id=run.id,
        status="failed" if error is not None else "completed",
        output=output,
        error=error,
        replayed=replay.replayed,
        live=replay.live,
        diverged_at=replay.diverged_at,
    )


# The command -------------------------------------------------------------------------------------

EXIT_COMPLETED, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "replay",
        help="run an agent as a replay run created in AgentScope",
        description="Run an agent as a replay run: the steps before the fork return their recorded outputs "
        "without executing, the rest run live (exit 0: the replay completed, 1: it failed, 2: a usage or "
        "connection error).",
    )
    parser.add_argument("run_id", help="the replay run's id, as the Replay dialog shows it")
    parser.add_argument(
        "--agent", required=True, metavar="MODULE:FUNCTION", help="the agent, e.g. my_pkg.agent:run or agent.py:run"
    )
    parser.add_argument("--base-url", default=os.environ.get("AGENTSCOPE_BASE_URL", DEFAULT_BASE_URL))
    parser.add_argument("--api-key", default=os.environ.get("AGENTSCOPE_API_KEY"))
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for delivery (default 30)")
    parser.set_defaults(handler=command)


def command(args: argparse.Namespace) -> int:
    if not args.api_key:
        print("agentscope replay: no API key: set AGENTSCOPE_API_KEY or pass --api-key", file=sys.stderr)
        return EXIT_USAGE
    try:
        agent = load_agent(args.agent)
    except UsageError as exc:
        print(f"agentscope replay: {exc}", file=sys.stderr)
        return EXIT_USAGE
    # The default client: the agent's decorators record through it.
    client = configure(args.api_key, args.base_url, flush_interval=0.1)
    try:
        result = replay_run(client, args.run_id, agent, entrypoint=args.agent, timeout=args.timeout)
    except ReplayError as exc:
        print(f"agentscope replay: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        client.close()
    return _report(result, client.base_url)


def _report(result: ReplayResult, base_url: str) -> int:
    print(f"Replayed {result.replayed} recorded step(s) without executing them; ran {result.live} live.")
    if result.diverged_at is not None:
        print(f"The agent diverged from the recording at step {result.diverged_at}: it ran live from there.")
    if result.error is not None:
        print(f"The replay failed: {type(result.error).__name__}: {result.error}")
    else:
        print(f"Output: {str(result.output)[:300]}")
    print(f"Replay {result.status}: {base_url}/runs/{result.run_id}")
    return EXIT_COMPLETED if result.status == "completed" else EXIT_FAILED
