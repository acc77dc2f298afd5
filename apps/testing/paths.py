"""A small path syntax for pointing into a run, used by assertion and comparison tests.

A path starts at the run and walks down with `.key`, `[index]` and `[field=value]`:

    output                         the run's output
    output.answer                  key `answer` of the output
    input.messages[0].content      first message's content (negative indexes count from the end)
    metadata.model                 the run's metadata
    error.message                  the run's error
    steps[2].output                the third step (by position, in step_index order)
    steps[-1].output               the last step
    steps[name=search].output.hits the first step named `search`
    steps[step_type=tool_call].input   the first tool call
    output.items[id=7].title       `[field=value]` works on any list of objects: its first match
    output["key with spaces"]      quoted keys for keys that aren't plain names

A path starts with one of ROOTS. Keys are letters, digits, `_` and `-` (quote anything else);
`value` in `[field=value]` is compared with the field as text, so `[id=7]` finds `{"id": 7}`.
"""

import json
import re
from dataclasses import dataclass

ROOTS = ("input", "output", "metadata", "error", "steps")
MAX_PATH_LENGTH = 500

_KEY = r"[A-Za-z_][A-Za-z0-9_\-]*"
_TOKEN = re.compile(
    rf"""
    \.(?P<key>{_KEY})
  | \[(?P<index>-?\d+)\]
  | \[(?P<field>{_KEY})=(?P<match>[^\]]*)\]
  | \[(?P<quoted>"(?:[^"\\]|\\.)*")\]
    """,
    re.VERBOSE,
)
_MISSING = object()


class PathError(ValueError):
    pass


@dataclass(frozen=True)
class Segment:
    kind: str  # "key" | "index" | "match"
    key: str | None = None
    index: int | None = None
    field: str | None = None
    value: str | None = None

    def __str__(self) -> str:
        if self.kind == "index":
            return f"[{self.index}]"
        if self.kind == "match":
            return f"[{self.field}={self.value}]"
        return f".{self.key}" if re.fullmatch(_KEY, self.key or "") else f"[{json.dumps(self.key)}]"


def parse(path: str) -> list[Segment]:
    """The segments of `path` (its root first, as a key), or PathError saying what is wrong."""
    if not isinstance(path, str) or not path.strip():
        raise PathError("a path must be a non-empty string, e.g. 'output.answer'")
    if len(path) > MAX_PATH_LENGTH:
        raise PathError(f"a path is at most {MAX_PATH_LENGTH} characters")
    root = re.match(_KEY, path)
    if root is None or root.group() not in ROOTS:
        name = root.group() if root else path[:20]
        raise PathError(f"unknown root '{name}'; a path starts with one of {', '.join(ROOTS)}")
    segments = [Segment("key", key=root.group())]
    position = root.end()
    while position < len(path):
        token = _TOKEN.match(path, position)
        if token is None:
            raise PathError(f"can't read '{path[position:]}' at character {position + 1} of '{path}'")
        segments.append(_segment(token))
        position = token.end()
    return segments


def _segment(token: re.Match) -> Segment:
    if token["key"] is not None:
        return Segment("key", key=token["key"])
    if token["index"] is not None:
        return Segment("index", index=int(token["index"]))
    if token["field"] is not None:
        return Segment("match", field=token["field"], value=token["match"])
    return Segment("key", key=json.loads(token["quoted"]))


def resolve(path: str, run: dict, steps: list[dict]) -> tuple[bool, object, str]:
    """(found, value, where it stopped): `where` names the part that was missing, for messages."""
    segments = parse(path)
    current: object = steps if segments[0].key == "steps" else run.get(segments[0].key)
    walked = segments[0].key
    for segment in segments[1:]:
        current = _step_into(current, segment)
        if current is _MISSING:
            return False, None, walked + str(segment)
        walked += str(segment)
    return True, current, walked


def _step_into(value, segment: Segment):
    if segment.kind == "key":
        return value.get(segment.key, _MISSING) if isinstance(value, dict) else _MISSING
    if not isinstance(value, list):
        return _MISSING
    if segment.kind == "index":
        return value[segment.index] if -len(value) <= segment.index < len(value) else _MISSING
    for item in value:
        if isinstance(item, dict) and segment.field in item and _as_text(item[segment.field]) == segment.value:
            return item
    return _MISSING


def _as_text(value) -> str:
    return value if isinstance(value, str) else json.dumps(value)
