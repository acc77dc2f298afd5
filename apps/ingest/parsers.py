"""The ingest body parser: bounded in size, strict about JSON, and safe for PostgreSQL.

PostgreSQL refuses a NUL character in text and jsonb, and no database can store a lone UTF-16
surrogate (`"\\ud800"` is valid JSON but not valid Unicode). Both are replaced with U+FFFD
(the replacement character) in every string of the body, keys included, so what an agent sends is
stored rather than answered with a 500. Bytes that are not UTF-8 are replaced the same way.
`NaN` and `Infinity` are refused: they are not JSON and jsonb would refuse them; so is a number too
large for a float (`1e400`), which Python would read as infinity.

orjson reads most bodies (four to ten times faster than `json`, and as strict: no NaN, no infinity,
no lone surrogate); what it refuses or would read otherwise (an integer of 19 digits or more, which
it makes a float) goes through `json`, which answers the error or keeps the exact integer.
"""

import json
import math
import re

import orjson
from django.conf import settings
from rest_framework import exceptions, status
from rest_framework.parsers import BaseParser

MAX_DEPTH = 100
_ESCAPED_UNSAFE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")
_UNSAFE = re.compile("[\x00\ud800-\udfff]")
_LONG_NUMBER = re.compile(r"\d{19}")  # orjson reads an integer this long as a float


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request body too large."
    default_code = "payload_too_large"


class IngestJSONParser(BaseParser):
    """Not a subclass of DRF's JSONParser, which DRF hands `request.body`: reading that first would
    let Django answer an oversized body with its own 400 before we can answer 413."""

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        return parse_json(body_read(stream, parser_context))


def body_read(stream, parser_context=None) -> bytes:
    """The request body, refused with a 413 past INGEST_MAX_BODY_BYTES before more is read."""
    limit = settings.INGEST_MAX_BODY_BYTES
    request = (parser_context or {}).get("request")
    if request is not None and _declared_length(request) > limit:
        raise too_large(limit)
    raw = stream.read(limit + 1)
    if len(raw) > limit:
        raise too_large(limit)
    return raw


def parse_json(raw: bytes):
    return parse_json_text(raw.decode("utf-8", errors="replace"))


def parse_json_text(text: str):
    try:
        data = _json_loads(text) if _LONG_NUMBER.search(text) else orjson.loads(text)
    except orjson.JSONDecodeError:  # json's answer: its error, or what it reads that orjson doesn't
        data = _json_loads(text)
    if _ESCAPED_UNSAFE.search(text):
        return json_clean(data)
    if isinstance(data, dict | list) and text.count("[") + text.count("{") > MAX_DEPTH:
        depth_check(data)  # what json_clean checks, without copying a body that needs no cleaning
    return data


def _json_loads(text: str):
    try:
        return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:
        raise _too_deep() from None
    except ValueError as exc:
        raise exceptions.ParseError(f"Malformed JSON: {exc}") from None


def json_clean(value, *, unsafe: bool = True, depth: int = 0):
    """`value` with NULs and lone surrogates replaced (when `unsafe`), refusing absurd nesting."""
    if depth > MAX_DEPTH:
        raise _too_deep()
    if isinstance(value, str):
        return _UNSAFE.sub("\ufffd", value) if unsafe else value
    if isinstance(value, dict):
        return {json_clean(k, unsafe=unsafe): json_clean(v, unsafe=unsafe, depth=depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [json_clean(item, unsafe=unsafe, depth=depth + 1) for item in value]
    return value


def depth_check(container: dict | list) -> None:
    """Refuses what json_clean refuses: anything nested deeper than MAX_DEPTH levels. Level by level,
    each in one comprehension (a batch holds thousands of containers: a call per container cost a
    sixth of its CPU)."""
    level, depth = [container], 0
    while level:
        if depth >= MAX_DEPTH and any(level):  # a container this deep holds something
            raise _too_deep()
        level = [
            child
            for parent in level
            for child in (parent.values() if type(parent) is dict else parent)
            if type(child) is dict or type(child) is list
        ]
        depth += 1


def _too_deep() -> exceptions.ParseError:
    return exceptions.ParseError(f"Malformed JSON: nested deeper than {MAX_DEPTH} levels.")


def _finite_float(text: str) -> float:
    number = float(text)
    if math.isinf(number):
        raise ValueError(f"{text} is out of range for a number")
    return number


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def _declared_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except (TypeError, ValueError):
        return 0


def too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"Request body too large: the limit is {limit} bytes.")
