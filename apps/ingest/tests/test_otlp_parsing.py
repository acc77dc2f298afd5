import base64
import gzip
import zlib

import pytest
from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from rest_framework.exceptions import ParseError, UnsupportedMediaType

from apps.ingest.otlp.parsing import body_decode, gunzip, json_ids_to_base64
from apps.ingest.parsers import PayloadTooLarge

TRACE = "5b8efff798038103d269b633813fc60c"
SPAN = "eee19b7ec3c1b174"


def otlp_json(**span) -> dict:
    return {"resourceSpans": [{"scopeSpans": [{"spans": [{"name": "s", **span}]}]}]}


def test_hex_ids_become_what_json_format_reads_as_those_bytes():
    data = otlp_json(traceId=TRACE, spanId=SPAN, parentSpanId="", links=[{"traceId": TRACE, "spanId": SPAN}])
    json_ids_to_base64(data)
    span = json_format.ParseDict(data, ExportTraceServiceRequest()).resource_spans[0].scope_spans[0].spans[0]
    assert span.trace_id.hex() == TRACE and span.span_id.hex() == SPAN and span.parent_span_id == b""
    assert span.links[0].trace_id.hex() == TRACE and span.links[0].span_id.hex() == SPAN


def test_without_the_conversion_json_format_silently_reads_other_ids():
    """Why the conversion exists: a hex id is valid base64, so json_format takes it without a word."""
    span = json_format.ParseDict(otlp_json(traceId=TRACE), ExportTraceServiceRequest())
    stored = span.resource_spans[0].scope_spans[0].spans[0].trace_id
    assert stored == base64.b64decode(TRACE) and stored.hex() != TRACE


def test_snake_case_keys_are_converted_too():
    data = {"resource_spans": [{"scope_spans": [{"spans": [{"trace_id": TRACE, "span_id": SPAN}]}]}]}
    json_ids_to_base64(data)
    span = json_format.ParseDict(data, ExportTraceServiceRequest()).resource_spans[0].scope_spans[0].spans[0]
    assert span.trace_id.hex() == TRACE


@pytest.mark.parametrize("bad", ["xyz", "abc", 12, {"a": 1}, ["aa"], "5b8e-fff7"])
def test_an_id_that_is_not_hex_is_refused(bad):
    with pytest.raises(ParseError, match="is not a hex string"):
        json_ids_to_base64(otlp_json(traceId=TRACE, spanId=bad))


def test_odd_shapes_are_left_to_json_format():
    for data in ({}, {"resourceSpans": "x"}, {"resourceSpans": [1, {"scopeSpans": [None]}]}):
        json_ids_to_base64(data)  # no error here: json_format refuses what it can't read


def test_gunzip_reads_every_member():
    assert gunzip(gzip.compress(b"abc") + gzip.compress(b"def"), limit=100) == b"abcdef"


def test_a_gzip_bomb_is_refused_after_limit_bytes_not_inflated_whole():
    bomb = gzip.compress(b"\0" * 50_000_000)  # 50 MB from about 50 KB
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    assert len(bomb) < 100_000
    with pytest.raises(PayloadTooLarge):
        gunzip(bomb, limit=1000)
    assert len(inflater.decompress(bomb, 1001)) == 1001  # what gunzip asks for: one byte past the limit


def test_exactly_the_limit_is_accepted():
    assert len(gunzip(gzip.compress(b"x" * 1000), limit=1000)) == 1000
    with pytest.raises(PayloadTooLarge):
        gunzip(gzip.compress(b"x" * 1001), limit=1000)


@pytest.mark.parametrize(
    "body",
    [gzip.compress(b"x" * 1000)[:-6], gzip.compress(b"x" * 1000)[:20], b"not gzip", gzip.compress(b"a") + b"junk"],
)
def test_truncated_or_malformed_gzip_is_a_parse_error(body):
    with pytest.raises(ParseError, match="Malformed gzip body"):
        gunzip(body, limit=10_000)


def test_encodings(settings):
    settings.INGEST_MAX_BODY_BYTES = 100
    assert body_decode(b"raw", encoding="") == b"raw"
    assert body_decode(b"raw", encoding="identity") == b"raw"
    assert body_decode(gzip.compress(b"zipped"), encoding=" GZIP ") == b"zipped"
    with pytest.raises(PayloadTooLarge):
        body_decode(gzip.compress(b"x" * 101), encoding="gzip")
    with pytest.raises(UnsupportedMediaType):
        body_decode(b"raw", encoding="br")
