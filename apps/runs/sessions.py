"""Sessions: the runs that share a `session_id` (a multi-turn conversation), read from the runs table.

No table of sessions: the write path sets `session_id` on the run, and two indexes serve the reads.
The list walks the project's runs with a session newest first (`runs_project_session_time_idx`) and
takes each session the first time it appears, which is its last activity; a session's numbers are
summed over its runs (`runs_project_session_idx`), for the page's sessions only. A session's turns
page by keyset on (started_at, id), oldest first, so the 5,000th turn costs what the first does.
"""

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from django.db.models import Count, Max, Min, Q, QuerySet, Sum
from django.http import Http404

from apps.runs.models import Run, RunStatus
from apps.runs.selectors import RUN_ROW_FIELDS, runs_in_projects

WALK_BATCH = 500  # runs read at a time while looking for the next sessions
MAX_WALKED = 20_000  # per page: a page of very long sessions stops early, with a link to go on


@dataclass(frozen=True)
class Session:
    session_id: str
    runs: int
    first_at: datetime
    last_at: datetime
    total_tokens: int
    failed_runs: int
    error_steps: int
    user_id: str | None = None
    # The sum of its runs' known costs (None while none has a price), and its LLM calls without one
    cost_usd: Decimal | None = None
    unpriced_steps: int = 0


@dataclass(frozen=True)
class SessionCursor:
    """The last activity of the last session of a page, and its id (ties broken by id)."""

    last_at: datetime
    session_id: str

    def encode(self) -> str:
        raw = f"{self.last_at.isoformat()}|{self.session_id}"
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> "SessionCursor":
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
            moment, session_id = raw.split("|", 1)
            last_at = datetime.fromisoformat(moment)
        except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
            raise ValueError("Not a valid cursor.") from exc
        if last_at.tzinfo is None:
            raise ValueError("Not a valid cursor.")
        return cls(last_at, session_id)


@dataclass
class SessionsPage:
    sessions: list[Session]
    older: SessionCursor | None


def sessions_page(*, project_ids: list[UUID], cursor: SessionCursor | None = None, size: int = 50) -> SessionsPage:
    """Sessions by last activity, newest first, after `cursor`."""
    runs = runs_in_projects(project_ids).filter(session_id__isnull=False)
    walk = runs.filter(started_at__lte=cursor.last_at) if cursor else runs
    found: dict[str, Session] = {}
    seen: set[str] = set()
    walked, edge = 0, None
    while len(found) <= size and walked < MAX_WALKED:
        batch = walk if edge is None else walk.filter(Q(started_at__lt=edge[0]) | Q(started_at=edge[0], pk__lt=edge[1]))
        rows = list(batch.order_by("-started_at", "-id").values_list("session_id", "started_at", "id")[:WALK_BATCH])
        walked += len(rows)
        new = list(dict.fromkeys(row[0] for row in rows if row[0] not in seen))
        seen.update(new)
        found.update((one.session_id, one) for one in _sessions_summed(runs, new) if _after(one, cursor))
        if len(rows) < WALK_BATCH:
            walked = 0  # the walk reached the end: nothing further back
            break
        edge = rows[-1][1:]
    ordered = sorted(found.values(), key=lambda one: (one.last_at, one.session_id), reverse=True)
    page = ordered[:size]
    more = len(ordered) > size or walked >= MAX_WALKED
    older = SessionCursor(page[-1].last_at, page[-1].session_id) if page and more else None
    return SessionsPage(sessions=page, older=older)


def _after(session: Session, cursor: SessionCursor | None) -> bool:
    return cursor is None or (session.last_at, session.session_id) < (cursor.last_at, cursor.session_id)


def _sessions_summed(runs: QuerySet[Run], session_ids: list[str]) -> list[Session]:
    if not session_ids:
        return []
    rows = (
        runs.filter(session_id__in=session_ids)
        .order_by()
        .values("session_id")
        .annotate(
            runs=Count("id"),
            first_at=Min("started_at"),
            last_at=Max("started_at"),
            total_tokens=Sum("total_tokens"),
            failed_runs=Count("id", filter=Q(status=RunStatus.FAILED)),
            error_steps=Sum("error_count"),
            user_id=Max("user_id"),
            cost_usd=Sum("cost_usd"),
            unpriced_steps=Sum("unpriced_steps"),
        )
    )
    return [
        Session(
            **{
                **row,
                "total_tokens": row["total_tokens"] or 0,
                "error_steps": row["error_steps"] or 0,
                "unpriced_steps": row["unpriced_steps"] or 0,
            }
        )
        for row in rows
    ]


def session_get(*, project_ids: list[UUID], session_id: str) -> Session:
    """The session's numbers, or 404 when none of these projects has a run in it."""
    summed = _sessions_summed(runs_in_projects(project_ids), [session_id])
    if not summed:
        raise Http404("No such session.")
    return summed[0]


@dataclass(frozen=True)
class TurnCursor:
    started_at: datetime
    id: UUID

    def encode(self) -> str:
        raw = f"{self.started_at.isoformat()}|{self.id.hex}"
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> "TurnCursor":
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
            moment, run_id = raw.split("|")
            started_at = datetime.fromisoformat(moment)
            return cls(started_at, UUID(hex=run_id))
        except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
            raise ValueError("Not a valid cursor.") from exc


@dataclass
class TurnsPage:
    runs: list[Run]
    later: TurnCursor | None


TURN_FIELDS = (*RUN_ROW_FIELDS, "input", "output", "error", "session_id", "user_id")


def session_turns(
    *, project_ids: list[UUID], session_id: str, cursor: TurnCursor | None = None, size: int = 50
) -> TurnsPage:
    """The session's runs in the order they started, `size` at a time after `cursor`."""
    turns = runs_in_projects(project_ids).filter(session_id=session_id).only(*TURN_FIELDS)
    if cursor is not None:
        at = cursor.started_at
        turns = turns.filter(started_at__gte=at).filter(Q(started_at__gt=at) | Q(pk__gt=cursor.id))
    rows = list(turns.order_by("started_at", "id")[: size + 1])
    later = TurnCursor(rows[size - 1].started_at, rows[size - 1].pk) if len(rows) > size else None
    return TurnsPage(runs=rows[:size], later=later)
