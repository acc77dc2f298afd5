"""JSON-safe snapshots of arbitrary Python values, bounded in size.

`to_jsonable` runs on the agent's thread when a step starts or ends, so that what is recorded is the
value as it was at that moment (the agent may mutate its lists later). It is cheap for the small
values agents pass around and its cost is capped for large ones: once `max_chars` characters have
been taken, strings are cut and containers end with a marker.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import math
import uuid
from collections.abc import Mapping
from decimal import Decimal
from pathlib import PurePath
from typing import Any

DEFAULT_MAX_CHARS = 64 * 1024
MAX_DEPTH = 20
_SEQUENCES = (list, tuple, set, frozenset)


def to_jsonable(value: Any, *, max_chars: int = DEFAULT_MAX_CHARS) -> Any:
    """A value made only of dict/list/str/int/float/bool/None, about `max_chars` characters at most."""
    try:
        return _convert(value, [max_chars], MAX_DEPTH)
    except Exception:  # a hostile __repr__ or model_dump must never reach the agent
        return _short_repr(value, 200)


def _convert(value: Any, budget: list[int], depth: int) -> Any:
    kind = type(value)
    if kind is str:
        return _string(value, budget)
    if value is None or kind is bool or kind is int:
        budget[0] -= 5
        return value
    if kind is float:
        budget[0] -= 10
        return value if math.isfinite(value) else str(value)
    if kind is dict:
        return _mapping(value, budget, depth)
    if kind is list or kind is tuple:
        return _sequence(value, budget, depth)
    return _other(value, budget, depth)


def _string(value: str, budget: list[int]) -> str:
    size = len(value)
    if size <= budget[0]:
        budget[0] -= size + 2
        return value
    keep = max(budget[0], 0)
    budget[0] = -1
    return f"{value[:keep]}…[{size - keep} more characters]"


def _mapping(value: Mapping, budget: list[int], depth: int) -> Any:
    if depth <= 0:
        return _string(_short_repr(value, 200), budget)
    out: dict[str, Any] = {}
    for key, item in value.items():
        if budget[0] <= 0:
            out["…"] = f"[{len(value) - len(out)} more items]"
            break
        name = key if type(key) is str else _key(key)
        budget[0] -= len(name) + 3
        out[name] = _convert(item, budget, depth - 1)
    return out


def _sequence(value: Any, budget: list[int], depth: int) -> Any:
    if depth <= 0:
        return _string(_short_repr(value, 200), budget)
    out: list[Any] = []
    for item in value:
        if budget[0] <= 0:
            out.append(f"…[{len(value) - len(out)} more items]")
            break
        budget[0] -= 1
        out.append(_convert(item, budget, depth - 1))
    return out


def _other(value: Any, budget: list[int], depth: int) -> Any:
    if isinstance(value, enum.Enum):
        return _convert(value.value, budget, depth)
    if isinstance(value, bool | int):
        return _convert(int(value), budget, depth)
    if isinstance(value, float):
        return _convert(float(value), budget, depth)
    if isinstance(value, str):
        return _string(str(value), budget)
    if isinstance(value, Mapping):
        return _mapping(value, budget, depth)
    if isinstance(value, _SEQUENCES):
        return _sequence(value, budget, depth)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return _string(value.isoformat(), budget)
    if isinstance(value, uuid.UUID | Decimal | PurePath | dt.timedelta):
        return _string(str(value), budget)
    if isinstance(value, bytes | bytearray | memoryview):
        return _string(f"<{len(value)} bytes>", budget)
    if isinstance(value, BaseException):
        return _convert({"type": type(value).__name__, "message": str(value)}, budget, depth)
    return _object(value, budget, depth)


def _object(value: Any, budget: list[int], depth: int) -> Any:
    """Pydantic models (OpenAI and Anthropic responses), dataclasses, then repr."""
    dump = getattr(value, "model_dump", None)
    if callable(dump) and not isinstance(value, type):
        try:
            return _convert(dump(mode="json"), budget, depth)
        except Exception:
            pass
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {field.name: getattr(value, field.name, None) for field in dataclasses.fields(value)}
        return _mapping(fields, budget, depth)
    return _string(_short_repr(value, 1000), budget)


def _key(key: Any) -> str:
    if isinstance(key, enum.Enum):
        key = key.value
    return key if isinstance(key, str) else str(key)


def _short_repr(value: Any, limit: int) -> str:
    try:
        text = repr(value)
    except Exception:
        return f"<{type(value).__name__}>"
    return text if len(text) <= limit else f"{text[:limit]}…"
