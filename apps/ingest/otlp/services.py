"""Writing the spans of one OTLP request: mapped to events, then written in bulk by the runs' one
write path (apps.runs.writes), which lets a step name a parent not stored yet and keeps each run's
steps in start order. A run its root span ended is judged by the project's tests, as when the SDK
ends one."""

from dataclasses import dataclass

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from apps.ingest.otlp.mapping import Stored, run_id_for, trace_events, traces
from apps.ingest.otlp.spans import Span, request_spans
from apps.projects.models import Project
from apps.runs.selectors import runs_so_far, traces_recorded_by_integrations
from apps.runs.writes import runs_write
from apps.testing.services import tests_schedule_for_runs

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
    grouped = _not_recorded_by_integrations(project, traces(spans))
    stored = _stored(project, grouped)
    events = []
    for trace_id, trace_spans in grouped.items():
        events += trace_events(project_id=project.pk, spans=trace_spans, stored=stored.get(trace_id))
    if not events:
        return _result(len(refused), reasons)
    written = runs_write(
        project_id=project.pk,
        events=[(event["type"], event["body"]) for event in events],
        parents_may_wait=True,
        in_start_order=True,
    )
    tests_schedule_for_runs(runs=written.finished_runs)
    rejected = len(refused)
    for event, result in zip(events, written.results, strict=True):
        if event["type"] == "step.create" and result.error is not None:
            rejected += 1
            reasons.append(f"span {event['body']['span_id']}: {result.error.detail}")
    return _result(rejected, reasons)


def _not_recorded_by_integrations(project: Project, grouped: dict[str, list[Span]]) -> dict[str, list[Span]]:
    """An SDK integration that records an agent inside an OpenTelemetry trace names its run after the
    trace: that trace's spans are accepted and left out, so the agent is one run, not two."""
    if not grouped:
        return grouped
    recorded = traces_recorded_by_integrations(project=project, external_ids=list(grouped))
    return {trace_id: spans for trace_id, spans in grouped.items() if trace_id not in recorded}


def _stored(project: Project, grouped: dict[str, list[Span]]) -> dict[str, Stored]:
    """What the runs of the traces whose root span is here hold already (runs made by earlier requests)."""
    rooted = {run_id_for(project.pk, trace_id): trace_id for trace_id, spans in grouped.items() if _has_root(spans)}
    if not rooted:
        return {}
    so_far = runs_so_far(project=project, run_ids=list(rooted))
    return {
        rooted[run_id]: Stored(
            agent_name_source=(run.metadata or {}).get("agent_name_source"),
            first_llm_input=run.first_llm_input,
            last_llm_output=run.last_llm_output,
        )
        for run_id, run in so_far.items()
    }


def _has_root(spans: list[Span]) -> bool:
    return any(span.is_root for span in spans)


def _result(rejected: int, reasons: list[str]) -> ExportResult:
    if not rejected:
        return ExportResult()
    shown = "; ".join(reasons[:MAX_REASONS])
    more = f" (and {len(reasons) - MAX_REASONS} more)" if len(reasons) > MAX_REASONS else ""
    return ExportResult(rejected_spans=rejected, error_message=f"{rejected} spans refused: {shown}{more}")
