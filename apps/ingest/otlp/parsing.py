"""Reading an OTLP/HTTP body into the official `ExportTraceServiceRequest` message.

The size limit (INGEST_MAX_BODY_BYTES) applies to the body as sent and again after gzip, which is
decompressed in one bounded step: a small body that would inflate past the limit (a gzip bomb) is a
413 as soon as the limit is passed, never decompressed whole.

OTLP/JSON differs from protobuf's own JSON mapping in one place: trace and span ids are hex, where
`google.protobuf.json_format` reads `bytes` fields as base64, without an error for most hex strings,
and would store other ids than those sent. `json_ids_to_base64` rewrites them before parsing.
"""

import base64
import binascii
import zlib

from django.conf import settings
from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from rest_framework import exceptions
from rest_framework.parsers import BaseParser

from apps.ingest.parsers import body_read, parse_json, too_large

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
GZIP_WBITS = 16 + zlib.MAX_WBITS  # a gzip header and trailer around deflate data
ID_KEYS = ("traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id")


class OtlpParser(BaseParser):
    """A bounded read, gzip undone (bounded too), then the message (`message_parse`)."""

    def parse(self, stream, media_type=None, parser_context=None):
        raw = body_read(stream, parser_context)
        request = (parser_context or {}).get("request")
        encoding = request.META.get("HTTP_CONTENT_ENCODING", "") if request is not None else ""
        return self.message_parse(body_decode(raw, encoding=encoding))

    def message_parse(self, raw: bytes) -> ExportTraceServiceRequest:
        raise NotImplementedError


class OtlpProtobufParser(OtlpParser):
    media_type = PROTOBUF

    def message_parse(self, raw: bytes) -> ExportTraceServiceRequest:
        try:
            return ExportTraceServiceRequest.FromString(raw)
        except DecodeError as exc:
            raise exceptions.ParseError(f"Malformed protobuf: {exc}") from None


class OtlpJSONParser(OtlpParser):
    media_type = JSON

    def message_parse(self, raw: bytes) -> ExportTraceServiceRequest:
        data = parse_json(raw)
        if not isinstance(data, dict):
            raise exceptions.ParseError("Malformed OTLP/JSON: the body is not an object.")
        json_ids_to_base64(data)
        try:
            return json_format.ParseDict(data, ExportTraceServiceRequest(), ignore_unknown_fields=True)
        except json_format.ParseError as exc:
            raise exceptions.ParseError(f"Malformed OTLP/JSON: {exc}") from None


def body_decode(raw: bytes, *, encoding: str) -> bytes:
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return raw
    if encoding != "gzip":
        raise exceptions.UnsupportedMediaType(encoding, detail=f"Content-Encoding {encoding!r} is not supported.")
    return gunzip(raw, limit=settings.INGEST_MAX_BODY_BYTES)


def gunzip(raw: bytes, *, limit: int) -> bytes:
    """`raw` decompressed (every gzip member of it), refused with a 413 once past `limit` bytes."""
    parts, size = [], 0
    while raw:
        inflater = zlib.decompressobj(GZIP_WBITS)
        try:
            part = inflater.decompress(raw, limit - size + 1)
        except zlib.error as exc:
            raise exceptions.ParseError(f"Malformed gzip body: {exc}") from None
        size += len(part)
        if size > limit:
            raise too_large(limit)
        if not inflater.eof:  # every byte read and still no end: the body was cut short
            raise exceptions.ParseError("Malformed gzip body: it ends before its end.")
        parts.append(part)
        raw = inflater.unused_data
    return b"".join(parts)


def json_ids_to_base64(data: dict) -> None:
    """Rewrites, in place, the hex ids of OTLP/JSON spans and links as the base64 json_format reads."""
    for resource_spans in _items(data, "resourceSpans", "resource_spans"):
        for scope_spans in _items(resource_spans, "scopeSpans", "scope_spans"):
            for span in _items(scope_spans, "spans"):
                _ids_convert(span)
                for link in _items(span, "links"):
                    _ids_convert(link)


def _items(container, *keys: str) -> list:
    if not isinstance(container, dict):
        return []
    for key in keys:
        value = container.get(key)
        if isinstance(value, list):
            return value
    return []


def _ids_convert(item) -> None:
    if not isinstance(item, dict):
        return  # json_format refuses it with its own message
    for key in ID_KEYS:
        value = item.get(key)
        if value is None:
            continue
        try:
            if not isinstance(value, str):
                raise TypeError
            item[key] = base64.b64encode(bytes.fromhex(value)).decode("ascii")
        except (TypeError, ValueError, binascii.Error):
            raise exceptions.ParseError(
                f"Malformed OTLP/JSON: {key} {str(value)[:64]!r} is not a hex string."
            ) from None
