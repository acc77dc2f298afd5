"""What a pause at a breakpoint decides, and the hook through which a step may pause.

Tracing asks its client's `breakpoints` whether a step may stop and, when it may, hands the step
over and gets a `Decision` back (or `Aborted` is raised). This module holds that contract, `Pauses`,
whose own answers never pause. `agentscope_sdk.breakpoints.Breakpoints` implements it for real and
every client gets one (the package's `__init__` plugs it in), so tracing never imports breakpoints:
breakpoints sits above tracing, not below it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ACTIONS = ("continue", "skip", "abort")


class Aborted(BaseException):
    """Raised in the agent where a person pressed Abort at a breakpoint; the run ends failed with
    `message` (who aborted it, where).

    Like KeyboardInterrupt and asyncio.CancelledError it derives from BaseException, so an agent's
    `except Exception:` around a tool call doesn't swallow it and go on with a run that has ended."""

    def __init__(self, message: str = "Aborted at a breakpoint", *, hit_id: str | None = None):
        super().__init__(message)
        self.message = message
        self.hit_id = hit_id

    @property
    def error(self) -> dict[str, str]:
        """The run's error, as the server recorded it."""
        return {"message": self.message, "type": "Aborted"}


@dataclass(frozen=True)
class Decision:
    """What to do about a step a breakpoint stopped: continue (maybe with an edited input), skip
    (with the output to return instead of running), or abort."""

    action: str
    hit_id: str | None = None
    edited: bool = False
    input: Any = None
    output: Any = None
    message: str | None = None
    timed_out: bool = False

    @classmethod
    def of(cls, control: Any) -> Decision:
        if not isinstance(control, dict):
            return CONTINUE
        action = control.get("action") if control.get("action") in ACTIONS else "continue"
        return cls(
            action,
            hit_id=control.get("hit_id"),
            edited=action == "continue" and "input" in control,
            input=control.get("input"),
            output=control.get("output"),
            message=control.get("message"),
            timed_out=bool(control.get("timed_out")),
        )


CONTINUE = Decision("continue")


class Pauses:
    """The hook a step pauses through, as tracing calls it. On its own it never pauses: every check
    says no and every step goes on."""

    active = False

    def prepare(self) -> None:
        """At a run's start: get ready to answer `may_stop` from memory."""

    async def aprepare(self) -> None:
        """`prepare()` for async code, never blocking the event loop."""

    def may_stop(self, agent_name: str | None, step_type: str, name: str | None) -> bool:
        """Whether a breakpoint could stop this step before it runs (then `before` gets it)."""
        return False

    def may_stop_after_error(self, agent_name: str | None) -> bool:
        """Whether a breakpoint could stop a step that raised (then `after` gets it)."""
        return False

    def before(self, run_id: str, body: dict[str, Any]) -> Decision:
        """Send a running step that may stop; block until the decision when it pauses."""
        return CONTINUE

    async def abefore(self, run_id: str, body: dict[str, Any]) -> Decision:
        return CONTINUE

    def after(self, run_id: str, step_id: str, body: dict[str, Any]) -> Decision:
        """Send a failed step's completion; block until the decision when it pauses."""
        return CONTINUE

    async def aafter(self, run_id: str, step_id: str, body: dict[str, Any]) -> Decision:
        return CONTINUE

    def close(self) -> None:
        """Nothing pauses any more; a call waiting at a breakpoint goes on."""
