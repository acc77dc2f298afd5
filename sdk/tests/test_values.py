"""JSON-safe snapshots and token usage, the two pure pieces of the SDK."""

import dataclasses
import datetime as dt
import enum
import json
import uuid
from decimal import Decimal
from types import SimpleNamespace

from agentscope_sdk._json import to_jsonable
from agentscope_sdk._usage import usage_of


class Colour(enum.Enum):
    RED = "red"


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Model:
    """Quacks like a pydantic v2 model (OpenAI and Anthropic responses are)."""

    def model_dump(self, mode="python"):
        return {"mode": mode, "id": uuid.UUID(int=1)}


def test_it_keeps_plain_json_as_is():
    value = {"a": [1, 2.5, None, True, "x"], "b": {"c": "d"}}
    assert to_jsonable(value) == value


def test_it_converts_odd_values():
    moment = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    converted = to_jsonable(
        {
            "when": moment,
            "id": uuid.UUID(int=0),
            "price": Decimal("1.10"),
            "colour": Colour.RED,
            "point": Point(1, 2),
            "model": Model(),
            "tuple": (1, 2),
            "inf": float("inf"),
            3: "int key",
            "error": ValueError("bad"),
        }
    )
    assert converted == {
        "when": "2026-01-02T03:04:05+00:00",
        "id": "00000000-0000-0000-0000-000000000000",
        "price": "1.10",
        "colour": "red",
        "point": {"x": 1, "y": 2},
        "model": {"mode": "json", "id": "00000000-0000-0000-0000-000000000001"},
        "tuple": [1, 2],
        "inf": "inf",
        "3": "int key",
        "error": {"type": "ValueError", "message": "bad"},
    }


def test_it_cuts_long_strings():
    converted = to_jsonable({"text": "y" * 10_000}, max_chars=2_000)
    assert converted["text"].startswith("y" * 1_900)
    assert converted["text"].endswith("more characters]")


def test_it_caps_the_size_of_containers():
    converted = to_jsonable({"items": list(range(10_000)), "text": "y" * 10_000}, max_chars=2_000)
    assert len(json.dumps(converted)) < 3_000
    assert converted["items"][:3] == [0, 1, 2]
    assert converted["items"][-1].startswith("…[") and converted["items"][-1].endswith("more items]")
    assert converted["…"] == "[1 more items]"


def test_it_survives_cycles_and_hostile_reprs():
    loop: list = []
    loop.append(loop)

    class Hostile:
        def __repr__(self):
            raise RuntimeError("no")

    assert isinstance(to_jsonable(loop), list)
    assert to_jsonable(Hostile()) == "<Hostile>"


def test_it_reads_openai_usage():
    response = {"model": "gpt-4o", "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}
    assert usage_of(response) == (
        15,
        {
            "model": "gpt-4o",
            "prompt_tokens": 10,
            "completion_tokens": 5,
            "usage": {"input_tokens": 10, "output_tokens": 5},
        },
    )
    without_total = SimpleNamespace(model="gpt-4o", usage=SimpleNamespace(prompt_tokens=7, completion_tokens=3))
    assert usage_of(without_total)[0] == 10


def test_it_reads_anthropic_usage():
    usage = SimpleNamespace(input_tokens=100, output_tokens=20, cache_read_input_tokens=50)
    tokens, metadata = usage_of(SimpleNamespace(model="claude-sonnet-4", usage=usage))
    assert tokens == 120
    assert metadata == {
        "model": "claude-sonnet-4",
        "input_tokens": 100,
        "output_tokens": 20,
        "cache_read_input_tokens": 50,
        "usage": {"input_tokens": 150, "output_tokens": 20, "cache_read_tokens": 50},
    }


def test_it_ignores_responses_without_usage():
    assert usage_of("plain text") == (None, {})
    assert usage_of({"choices": []}) == (None, {})
    assert usage_of(SimpleNamespace(usage=SimpleNamespace(prompt_tokens="many"))) == (None, {})
