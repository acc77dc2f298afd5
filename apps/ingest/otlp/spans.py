"""The spans of an `ExportTraceServiceRequest` as plain values: hex ids, datetimes, attribute dicts.

Attribute values become JSON values: arrays lists, key-value lists dicts, bytes base64 text. Text
with a NUL (valid in protobuf, refused by PostgreSQL) has it replaced with U+FFFD, and a float that
JSON can't hold (NaN, infinity) is kept as its name, so every span can be stored.
"""

import base64
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span as ProtoSpan
from opentelemetry.proto.trace.v1.trace_pb2 import Status

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
KINDS = {value: name.removeprefix("SPAN_KIND_").lower() for name, value in ProtoSpan.SpanKind.items()}
STATUS_ERROR = Status.STATUS_CODE_ERROR
STATUS_OK = Status.STATUS_CODE_OK


@dataclass
class Span:
    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    kind: str
    start: datetime | None
    end: datetime | None
    attributes: dict
    status_code: int = 0
    status_message: str = ""
    events: list[dict] = field(default_factory=list)
    links: list[dict] = field(default_factory=list)
    scope: dict = field(default_factory=dict)
    resource: dict = field(default_factory=dict)
    trace_state: str = ""

    @property
    def is_root(self) -> bool:
        return self.parent_span_id is None


@dataclass
class Refusal:
    name: str
    reason: str


def request_spans(export: ExportTraceServiceRequest) -> tuple[list[Span], list[Refusal]]:
    """Every span of the request, and those refused (ids of the wrong length or all zeros)."""
    spans, refused = [], []
    for resource_spans in export.resource_spans:
        resource = attributes_dict(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            scope = {"name": scope_spans.scope.name, "version": scope_spans.scope.version}
            for span in scope_spans.spans:
                reason = ids_problem(span)
                if reason:
                    refused.append(Refusal(text(span.name), reason))
                else:
                    spans.append(span_from_proto(span, scope=scope, resource=resource))
    return spans, refused


def ids_problem(span: ProtoSpan) -> str | None:
    if len(span.trace_id) != 16 or not any(span.trace_id):
        return "trace_id must be 16 bytes, not all zero"
    if len(span.span_id) != 8 or not any(span.span_id):
        return "span_id must be 8 bytes, not all zero"
    if span.parent_span_id and len(span.parent_span_id) != 8:
        return "parent_span_id must be 8 bytes or empty"
    return None


def span_from_proto(span: ProtoSpan, *, scope: dict, resource: dict) -> Span:
    return Span(
        trace_id=span.trace_id.hex(),
        span_id=span.span_id.hex(),
        parent_span_id=span.parent_span_id.hex() if any(span.parent_span_id) else None,
        name=text(span.name),
        kind=KINDS.get(span.kind, "unspecified"),
        start=time_from_nanos(span.start_time_unix_nano),
        end=time_from_nanos(span.end_time_unix_nano),
        attributes=attributes_dict(span.attributes),
        status_code=span.status.code,
        status_message=text(span.status.message),
        events=[
            {
                "name": text(event.name),
                "time": time_iso(event.time_unix_nano),
                "attributes": attributes_dict(event.attributes),
            }
            for event in span.events
        ],
        links=[
            {
                "trace_id": link.trace_id.hex(),
                "span_id": link.span_id.hex(),
                "attributes": attributes_dict(link.attributes),
            }
            for link in span.links
        ],
        scope=scope,
        resource=resource,
        trace_state=text(span.trace_state),
    )


def time_from_nanos(nanos: int) -> datetime | None:
    if not nanos:
        return None
    try:
        return EPOCH + timedelta(microseconds=nanos // 1000)
    except OverflowError:  # past year 9999: no such time can be stored
        return None


def time_iso(nanos: int) -> str | None:
    moment = time_from_nanos(nanos)
    return moment.isoformat() if moment else None


def attributes_dict(attributes) -> dict:
    return {item.key: any_value(item.value) for item in attributes}


def any_value(value):
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return text(value.string_value)
    if kind in ("int_value", "bool_value"):
        return getattr(value, kind)
    if kind == "double_value":
        number = value.double_value
        return number if math.isfinite(number) else str(number)
    if kind == "array_value":
        return [any_value(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return attributes_dict(value.kvlist_value.values)
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode("ascii")
    return None


def text(value: str) -> str:
    return value.replace("\x00", "\ufffd") if "\x00" in value else value
