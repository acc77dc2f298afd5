"""Reading what a person typed into the test editor: JSON or text, numbers. A problem is recorded
under the key validation would give it (`config.threshold`), so it shows next to its field."""

import json
import math

MISSING = object()


def loose_json(text: str):
    """JSON when the text is JSON, else the text itself (an agent's input may be a plain prompt)."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def as_loose_text(value) -> str:
    """The inverse of `loose_json`: text that reads back as the same value."""
    if value is None:
        return ""
    if isinstance(value, str) and not _parses(value):
        return value
    return json.dumps(value, ensure_ascii=False, indent=2 if isinstance(value, dict | list) else None)


def _parses(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def parsed_json(text: str, problems: dict, key: str):
    if not text.strip():
        return MISSING
    try:
        return json.loads(text)
    except ValueError as exc:
        problems.setdefault(key, []).append(f"not valid JSON ({exc.msg} at character {exc.pos + 1})")
        return MISSING


def number_in(text: str, problems: dict, key: str, *, whole: bool = False, required: bool = False):
    if not text:
        if required:
            problems.setdefault(key, []).append("give a number")
        return None
    try:
        number = float(text)
    except ValueError:
        problems.setdefault(key, []).append(f"{text!r} is not a number")
        return None
    if not math.isfinite(number):
        problems.setdefault(key, []).append("a finite number")
        return None
    if whole and not number.is_integer():
        problems.setdefault(key, []).append("a whole number, 0 or more")
        return None
    return int(number) if number.is_integer() and (whole or "." not in text) else number
