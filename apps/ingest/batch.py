"""`POST /api/ingest/batch`: many events, a few queries, one answer per event.

Every event's shape is checked on its own first, so one bad event sinks no other; the valid ones go
to `ingest_batch` (the runs' write path, then apps.mcp), which applies the rules of the single
endpoints and answers per event too.
"""

from rest_framework.exceptions import ValidationError

from apps.core.errors import ApplicationError
from apps.ingest.serializers import BATCH_EVENT_INPUTS, IngestBatchEventInput
from apps.ingest.services import ingest_batch
from apps.ingest.validation import input_checker
from apps.projects.models import Project


def batch_ingest(*, project: Project, events: list) -> list[dict]:
    """One result per event, in order: `{"index", "status", "id"}` or `{"index", "status", "error"}`."""
    valid, results = batch_validate(events)
    answers = ingest_batch(project=project, events=[(kind, data) for _, kind, data in valid])
    for (index, _, _), (status, answer) in zip(valid, answers, strict=True):
        if isinstance(answer, ApplicationError):
            results[index] = error_result(index, status, answer.errors, answer.detail)
        else:
            results[index] = {"index": index, "status": status, "id": str(answer)}
    return [results[index] for index in range(len(events))]


def batch_validate(events: list) -> tuple[list[tuple[int, str, dict]], dict[int, dict]]:
    """(index, kind, data) of each valid event, and the error result of each other one by index."""
    envelope = input_checker(IngestBatchEventInput)
    bodies = {kind: input_checker(serializer) for kind, serializer in BATCH_EVENT_INPUTS.items()}
    valid, errors = [], {}
    for index, raw in enumerate(events):
        try:
            event = envelope(raw)
            valid.append((index, event["type"], bodies[event["type"]](event["body"])))
        except ValidationError as exc:
            errors[index] = error_result(index, 400, exc.detail)
    return valid, errors


def error_result(index: int, status: int, errors: dict | list, detail: str | None = None) -> dict:
    if not isinstance(errors, dict):  # a null event: DRF names no field
        errors = {"non_field_errors": errors}
    errors = {key: value if isinstance(value, list) else [value] for key, value in errors.items()}
    if detail is None:
        first = next(iter(errors.items()), None)
        detail = f"{first[0]}: {first[1][0]}" if first else "Invalid input."
    return {"index": index, "status": status, "error": {"detail": detail, "errors": errors}}
