"""Writing the spans of one OTLP request: mapped to events, then written in bulk."""

from dataclasses import dataclass

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from apps.ingest.batch import batch_ingest
from apps.ingest.otlp.mapping import trace_events, traces
from apps.ingest.otlp.spans import request_spans
from apps.projects.models import Project
from apps.runs.models import RunStep

MAX_REASONS = 5


@dataclass
class ExportResult:
    rejected_spans: int = 0
    error_message: str = ""


def otlp_ingest(*, project: Project, export: ExportTraceServiceRequest) -> ExportResult:
    """Stores every span of `export` it can; the others are counted and explained, as OTLP's
    partial success reports them."""
    spans, refused = request_spans(export)
    reasons = [f"span {refusal.name!r}: {refusal.reason}" for refusal in refused]
    events = []
    for trace_spans in traces(spans).values():
        events += trace_events(project_id=project.pk, spans=trace_spans)
    if not events:
        return _result(len(refused), reasons)
    _parents_unlink_unknown(events)
    results = batch_ingest(project=project, events=events)
    rejected = len(refused)
    for event, result in zip(events, results, strict=True):
        if event["type"] == "step.create" and result["status"] >= 400:
            rejected += 1
            reasons.append(f"span {event['body']['span_id']}: {result['error']['detail']}")
    return _result(rejected, reasons)


def _parents_unlink_unknown(events: list[dict]) -> None:
    """A step can only name a parent stored or written before it: a parent yet to come is left
    out (its span id stays in the step's metadata)."""
    bodies = [event["body"] for event in events if event["type"] == "step.create"]
    here = {body["id"] for body in bodies}
    wanted = {body["parent_id"] for body in bodies if body["parent_id"] and body["parent_id"] not in here}
    stored = set(RunStep.objects.filter(pk__in=wanted).values_list("pk", flat=True)) if wanted else set()
    for body in bodies:
        if body["parent_id"] and body["parent_id"] not in here and body["parent_id"] not in stored:
            body["parent_id"] = None


def _result(rejected: int, reasons: list[str]) -> ExportResult:
    if not rejected:
        return ExportResult()
    shown = "; ".join(reasons[:MAX_REASONS])
    more = f" (and {len(reasons) - MAX_REASONS} more)" if len(reasons) > MAX_REASONS else ""
    return ExportResult(rejected_spans=rejected, error_message=f"{rejected} spans refused: {shown}{more}")
