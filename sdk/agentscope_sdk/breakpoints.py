"""Breakpoints on the SDK's side: a step that a breakpoint could stop is posted synchronously, and
its call blocks until a person decides in the browser.

The hot path stays cheap. The project's enabled breakpoints are fetched when a run starts and
trusted for `RULES_TTL` seconds; each step is checked against them in memory (step type, name
pattern, agent). Only a step that one of them could stop leaves the batch: the queued events are
flushed so the run exists on the server, the step is posted as running to
`POST /api/ingest/run/{id}/step`, and when the answer is "pause" the call polls
`GET /api/ingest/run/{id}/control?hit_id=` (every 0.25 s, doubling up to 2 s) until the decision or
the maximum wait. A `custom` breakpoint is a JMESPath expression only the server evaluates, so it
could stop any step; so could a condition type this SDK doesn't know. After a step fails, an
`on_error` breakpoint (or an unknown one) does the same with the step's completion
(`PATCH .../step/{step_id}`). Whether SDK and server agree is tested on one file of cases,
sdk/tests/cases/breakpoint_matching.json. Async callers wait with `asyncio.sleep` and do their HTTP in
a worker thread, so the event loop never blocks.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import threading
import time
import weakref
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

import httpx

from agentscope_sdk.control import ACTIONS, CONTINUE, Decision, Pauses
from agentscope_sdk.delivery import http_client, json_body

if TYPE_CHECKING:
    from agentscope_sdk.transport import Sender

logger = logging.getLogger("agentscope_sdk")

RULES_PATH = "/api/ingest/breakpoints"
RULES_TTL = 5.0  # seconds the fetched breakpoints are trusted
UNREACHABLE_PAUSE = 30.0  # after a failed fetch, run starts don't wait for the server again this long
POLL_FIRST, POLL_MAX = 0.25, 2.0
SEND_ATTEMPTS = 3
DEFAULT_MAX_WAIT = 600.0
OFF = frozenset({"off", "0", "false", "no", "disabled"})
BEFORE_ONLY = frozenset({"step_type", "step_name", "custom"})  # conditions checked only before a step runs
_instances: weakref.WeakSet[Breakpoints] = weakref.WeakSet()


@dataclass(frozen=True)
class Rule:
    """An enabled breakpoint as the SDK sees it: enough to tell which steps it could stop.

    The server decides; the SDK only has to never miss a step the server would stop. So a rule this
    SDK can't judge (a `custom` JMESPath expression, or a condition type added to the server after
    this SDK was written) may stop any step, before it runs and after it fails: the step is posted
    synchronously and the server's answer says whether it pauses."""

    condition_type: str
    value: dict
    agent_name: str | None = None

    @classmethod
    def parse(cls, data: Any) -> Rule | None:
        if not isinstance(data, dict) or not isinstance(data.get("condition_type"), str):
            return None
        value = data.get("condition_value")
        return cls(data["condition_type"], value if isinstance(value, dict) else {}, data.get("agent_name") or None)

    def applies_to(self, agent_name: str | None) -> bool:
        return not self.agent_name or self.agent_name == agent_name

    def may_stop(self, agent_name: str | None, step_type: str, name: str | None) -> bool:
        """Before the step runs."""
        if not self.applies_to(agent_name):
            return False
        kind = self.condition_type
        if kind == "step_type":
            return self.value.get("step_type") == step_type
        if kind == "step_name":
            pattern, name = self.value.get("pattern") or "", name or ""
            return fnmatchcase(name, pattern) if self.value.get("match") == "glob" else name == pattern
        return kind != "on_error"  # custom, or unknown to this SDK: the server decides

    def may_stop_after_error(self, agent_name: str | None) -> bool:
        """After the step raised."""
        return self.applies_to(agent_name) and self.condition_type not in BEFORE_ONLY


def enabled_from_env(enabled: bool) -> bool:
    """`AGENTSCOPE_BREAKPOINTS=off` switches breakpoints off whatever the code says."""
    return enabled and os.environ.get("AGENTSCOPE_BREAKPOINTS", "").strip().lower() not in OFF


def max_wait_from_env(max_wait: float | None) -> float:
    if max_wait is not None:
        return max(0.0, float(max_wait))
    value = os.environ.get("AGENTSCOPE_BREAKPOINT_TIMEOUT")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            logger.warning("AgentScope: AGENTSCOPE_BREAKPOINT_TIMEOUT=%r is not a number of seconds", value)
    return DEFAULT_MAX_WAIT


class _Waiting:
    """The poll schedule of one pause: 0.25 s, doubling up to 2 s, until the maximum wait."""

    def __init__(self, max_wait: float):
        self.started = time.monotonic()
        self.deadline = self.started + max_wait
        self.delay = POLL_FIRST

    def next_delay(self) -> float | None:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            return None
        delay, self.delay = min(self.delay, remaining), min(self.delay * 2, POLL_MAX)
        return delay

    def waited_ms(self) -> int:
        return round((time.monotonic() - self.started) * 1000)


class Breakpoints(Pauses):
    """One client's breakpoints: the cached rules, and the synchronous step protocol. Every client
    gets one (see `agentscope_sdk/__init__.py`); `enabled` and `max_wait` yield to the environment
    (`AGENTSCOPE_BREAKPOINTS`, `AGENTSCOPE_BREAKPOINT_TIMEOUT`)."""

    def __init__(self, sender: Sender, *, enabled: bool, max_wait: float | None):
        self.sender = sender
        self.active = enabled_from_env(enabled)
        self.max_wait = max_wait_from_env(max_wait)
        self.base_url = sender.config.base_url.rstrip("/")
        self._before: tuple[Rule, ...] = ()
        self._after: tuple[Rule, ...] = ()
        self._fetched = -math.inf  # monotonic time of the last fetch, successful or not
        self._unreachable_until = -math.inf
        self._failures = 0
        self._reset()
        _instances.add(self)

    def _reset(self) -> None:
        self._fetch_lock = threading.Lock()
        self._refreshing = False
        self._http: httpx.Client | None = None

    # The hot path: in memory only.

    def may_stop(self, agent_name: str | None, step_type: str, name: str | None) -> bool:
        """Whether an enabled breakpoint could stop this step before it runs."""
        if not self.active:
            return False
        if time.monotonic() - self._fetched > RULES_TTL:
            self._refresh_in_background()
        rules = self._before
        return bool(rules) and any(rule.may_stop(agent_name, step_type, name) for rule in rules)

    def may_stop_after_error(self, agent_name: str | None) -> bool:
        return self.active and any(rule.may_stop_after_error(agent_name) for rule in self._after)

    # The rules.

    def prepare(self) -> None:
        """At a run's start: fetch the rules unless they are fresh, or the server was just unreachable."""
        if not self._stale():
            return
        with self._fetch_lock:
            if self._stale():  # another thread may have fetched them meanwhile
                self._fetch()

    async def aprepare(self) -> None:
        if self._stale():
            await asyncio.to_thread(self.prepare)

    def _stale(self) -> bool:
        now = time.monotonic()
        return self.active and now - self._fetched > RULES_TTL and now >= self._unreachable_until

    def _refresh_in_background(self) -> None:
        if self._refreshing:
            return
        self._refreshing = True
        threading.Thread(target=self._refresh, name="agentscope-breakpoints", daemon=True).start()

    def _refresh(self) -> None:
        try:
            with self._fetch_lock:
                self._fetch()
        finally:
            self._refreshing = False

    def _fetch(self) -> None:
        try:
            timeout = httpx.Timeout(5.0, connect=min(2.0, self.sender.config.connect_timeout))
            response = self._client().get(self.base_url + RULES_PATH, timeout=timeout)
            response.raise_for_status()
            rules = [rule for rule in map(Rule.parse, response.json().get("results") or []) if rule]
        except Exception as exc:  # keep the rules known so far
            self._fetched = time.monotonic()
            self._unreachable_until = self._fetched + UNREACHABLE_PAUSE
            self._failures += 1
            log = logger.warning if self._failures == 1 else logger.debug
            log("AgentScope: could not fetch the project's breakpoints (%s: %s)", type(exc).__name__, exc)
            return
        self._before = tuple(rule for rule in rules if rule.condition_type != "on_error")
        self._after = tuple(rule for rule in rules if rule.condition_type not in BEFORE_ONLY)
        self._fetched, self._unreachable_until, self._failures = time.monotonic(), -math.inf, 0

    # The protocol: before a step runs, and after it failed.

    def before(self, run_id: str, body: dict[str, Any]) -> Decision:
        """Post a running step that may stop; block until the decision when it pauses."""
        return self.wait(run_id, self._send("POST", f"/api/ingest/run/{run_id}/step", body, "step.create"))

    def after(self, run_id: str, step_id: str, body: dict[str, Any]) -> Decision:
        """Complete a failed step synchronously; block until the decision when it pauses."""
        path = f"/api/ingest/run/{run_id}/step/{step_id}"
        return self.wait(run_id, self._send("PATCH", path, body, "step.update"))

    async def abefore(self, run_id: str, body: dict[str, Any]) -> Decision:
        control = await asyncio.to_thread(self._send, "POST", f"/api/ingest/run/{run_id}/step", body, "step.create")
        return await self.await_decision(run_id, control)

    async def aafter(self, run_id: str, step_id: str, body: dict[str, Any]) -> Decision:
        path = f"/api/ingest/run/{run_id}/step/{step_id}"
        control = await asyncio.to_thread(self._send, "PATCH", path, body, "step.update")
        return await self.await_decision(run_id, control)

    def wait(self, run_id: str, control: Any) -> Decision:
        if not _pauses(control):
            return Decision.of(control)
        hit_id, waiting = control.get("hit_id"), self._waiting(run_id, control)
        while (delay := waiting.next_delay()) is not None:
            time.sleep(delay)
            decision = self._poll(run_id, hit_id) if self.active else CONTINUE
            if decision is not None:
                return decision
        return self._time_out(run_id, hit_id, waiting.waited_ms())

    async def await_decision(self, run_id: str, control: Any) -> Decision:
        if not _pauses(control):
            return Decision.of(control)
        hit_id, waiting = control.get("hit_id"), self._waiting(run_id, control)
        while (delay := waiting.next_delay()) is not None:
            await asyncio.sleep(delay)
            decision = await asyncio.to_thread(self._poll, run_id, hit_id) if self.active else CONTINUE
            if decision is not None:
                return decision
        return await asyncio.to_thread(self._time_out, run_id, hit_id, waiting.waited_ms())

    def _waiting(self, run_id: str, control: dict) -> _Waiting:
        logger.warning(
            "AgentScope: paused at a breakpoint (run %s, hit %s); waiting up to %.0f s for a decision in the browser",
            run_id,
            control.get("hit_id"),
            self.max_wait,
        )
        return _Waiting(self.max_wait)

    def _send(self, method: str, path: str, body: dict[str, Any], event_type: str) -> dict | None:
        """Send one step write synchronously and return the server's `control`. When that fails,
        the write goes through the batch like any other (its client id makes a repeat harmless)."""
        self.sender.flush(self.sender.config.timeout)  # the run, and the step's parent or the step itself
        content, delay, reason = json_body(body), POLL_FIRST, ""
        for attempt in range(SEND_ATTEMPTS):
            try:
                response = self._client().request(method, self.base_url + path, content=content)
            except httpx.HTTPError as exc:
                reason = f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code < 300:
                    return _json(response).get("control")
                reason = f"HTTP {response.status_code} {response.text[:200]}"
                if response.status_code != 429 and response.status_code < 500:
                    break
            if attempt + 1 < SEND_ATTEMPTS:
                time.sleep(delay)
                delay *= 2
        logger.warning("AgentScope: could not check a step against the breakpoints (%s); it goes on", reason)
        self.sender.enqueue(event_type, body)
        return None

    def _poll(self, run_id: str, hit_id: str | None) -> Decision | None:
        """The decision, or None while the step still waits (or the server can't be reached)."""
        try:
            response = self._client().get(f"{self.base_url}/api/ingest/run/{run_id}/control", params={"hit_id": hit_id})
        except httpx.HTTPError as exc:
            logger.info("AgentScope: polling the breakpoint failed (%s); trying again", exc)
            return None
        status = response.status_code
        if status == 429 or status >= 500:
            return None
        if status != 200:  # the run or the hit is gone, or the key was revoked: nothing to wait for
            logger.warning("AgentScope: the breakpoint's control answered HTTP %s; going on", status)
            return CONTINUE
        control = _json(response)
        return None if not control or control.get("action") == "pause" else Decision.of(control)

    def _time_out(self, run_id: str, hit_id: str | None, waited_ms: int) -> Decision:
        """Waited the maximum: tell the server, and go on (with someone's decision if it came just now)."""
        logger.warning("AgentScope: no decision at the breakpoint after %.0f s; going on", waited_ms / 1000)
        body = {"hit_id": hit_id, "timed_out": True, "waited_ms": waited_ms}
        try:
            response = self._client().post(f"{self.base_url}/api/ingest/run/{run_id}/control", content=json_body(body))
            control = _json(response) if response.status_code == 200 else {}
        except httpx.HTTPError:
            control = {}
        if control.get("action") in ACTIONS:
            return Decision.of(control)
        return Decision("continue", hit_id=hit_id, timed_out=True)

    def _client(self) -> httpx.Client:
        if self._http is None:
            self._http = http_client(self.sender.config)
        return self._http

    def close(self) -> None:
        """Nothing pauses any more; a call waiting at a breakpoint goes on at its next poll."""
        self.active = False
        http, self._http = self._http, None
        if http is not None:
            http.close()


def _pauses(control: Any) -> bool:
    return isinstance(control, dict) and control.get("action") == "pause"


def _json(response: httpx.Response) -> dict:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _after_fork_in_child() -> None:
    for breakpoints in list(_instances):
        breakpoints._reset()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
