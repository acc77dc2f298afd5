"""Spans to the events of the write path: a trace is a run of the key's project, a span a step.

Pure functions: no database. A run's id is derived from the project and the trace id, and a step's
id from the run's id and the span id, so a re-sent span names the step already stored (a no-op), a
child names its parent before the parent arrives, and another project's identical trace id is
another run. The run's `external_id` is the trace id in hex.

A step's type comes from the first rule that matches (the order Langfuse's mapper uses):
`openinference.span.kind`, then `gen_ai.operation.name`, then any `gen_ai.tool.*` attribute (but
the list of tools offered to a model, `gen_ai.tool.definitions`), then any model attribute; else
custom. Every attribute the mapping doesn't use stays in the step's `metadata["attributes"]`.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from apps.ingest.otlp.messages import input_messages, json_value, output_messages, unflatten
from apps.ingest.otlp.spans import STATUS_ERROR, STATUS_OK, Span
from apps.runs.models import RunStatus, StepType

NAMESPACE = uuid.UUID("6f0a3c2e-8d1b-5b7e-9c4a-0e2f1d3b5a79")
MAX_NAME = 255
INT_MAX = 2**31 - 1
NEVER = datetime.max.replace(tzinfo=None)

OPENINFERENCE_TYPES = {
    "LLM": StepType.LLM_CALL, "EMBEDDING": StepType.LLM_CALL, "TOOL": StepType.TOOL_CALL,
    "RETRIEVER": StepType.RETRIEVAL, "RERANKER": StepType.RETRIEVAL, "AGENT": StepType.CUSTOM,
    "CHAIN": StepType.CUSTOM, "GUARDRAIL": StepType.CUSTOM, "EVALUATOR": StepType.CUSTOM, "PROMPT": StepType.CUSTOM,
}  # fmt: skip
OPERATION_TYPES = {
    "chat": StepType.LLM_CALL, "text_completion": StepType.LLM_CALL, "generate_content": StepType.LLM_CALL,
    "embeddings": StepType.LLM_CALL, "retrieval": StepType.RETRIEVAL, "execute_tool": StepType.TOOL_CALL,
    "invoke_agent": StepType.CUSTOM, "create_agent": StepType.CUSTOM, "invoke_workflow": StepType.CUSTOM,
}  # fmt: skip
NOT_A_TOOL_CALL = {"gen_ai.tool.definitions"}
MODEL_KEYS = ("gen_ai.response.model", "gen_ai.request.model", "llm.model_name")
PROVIDER_KEYS = ("gen_ai.provider.name", "gen_ai.system", "llm.provider", "llm.system")
TOKEN_KEYS = {
    "input_tokens": ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens", "llm.token_count.prompt"),
    "output_tokens": ("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens", "llm.token_count.completion"),
    "total_tokens": ("gen_ai.usage.total_tokens", "llm.usage.total_tokens", "llm.token_count.total"),
    "cache_read_tokens": (
        "gen_ai.usage.cache_read.input_tokens", "gen_ai.usage.cache_read_input_tokens",
        "llm.token_count.prompt_details.cache_read",
    ),
    "cache_write_tokens": (
        "gen_ai.usage.cache_creation.input_tokens", "gen_ai.usage.cache_creation_input_tokens",
        "llm.token_count.prompt_details.cache_write",
    ),
    "reasoning_tokens": (
        "gen_ai.usage.reasoning.output_tokens", "gen_ai.usage.reasoning_tokens",
        "llm.token_count.completion_details.reasoning",
    ),
}  # fmt: skip
COST_KEYS = ("gen_ai.usage.cost", "llm.cost.total", "gen_ai.cost.total")  # a cost the instrumentation reported
AGENT_NAME_KEYS = ("gen_ai.agent.name", "agent.name")
SESSION_KEYS = ("gen_ai.conversation.id", "session.id")
USER_KEYS = ("user.id",)


def run_id_for(project_id: uuid.UUID, trace_id: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"{project_id}:{trace_id}")


def step_id_for(run_id: uuid.UUID, span_id: str) -> uuid.UUID:
    return uuid.uuid5(run_id, span_id)


# A request: traces, each a run ----------------------------------------------------------------------


def traces(spans: list[Span]) -> dict[str, list[Span]]:
    grouped: dict[str, list[Span]] = {}
    for span in spans:
        grouped.setdefault(span.trace_id, []).append(span)
    return grouped


@dataclass
class Stored:
    """What a trace's run already holds from earlier requests, read when a request brings its root
    span: how its agent was named, and the LLM steps the run's input and output may come from."""

    agent_name_source: str | None = None
    first_llm_input: tuple[datetime, object] | None = None  # (started_at, input) of the first with one
    last_llm_output: tuple[datetime, object] | None = None  # (started_at, output) of the last with one


def trace_events(*, project_id: uuid.UUID, spans: list[Span], stored: Stored | None = None) -> list[dict]:
    """`run.create` (a no-op when the run exists), `run.update` (the run starts with its earliest span;
    once the root span is here, its name and input), a `step.create` per span (in start order, parents
    first), and with the root span, `run.end`. Step bodies also carry `span_id` and `parent_span_id`."""
    run_id = run_id_for(project_id, spans[0].trace_id)
    ordered = start_order(spans)
    step_ids = {span.span_id: step_id_for(run_id, span.span_id) for span in ordered}
    steps = [step_body(span, run_id=run_id, step_ids=step_ids) for span in ordered]
    root_span = next((span for span in ordered if span.is_root), None)
    create = run_body(run_id=run_id, spans=ordered, steps=steps, root=root_span)
    update = {"run_id": run_id, "started_at": create.get("started_at"), **run_session(ordered)}
    events = [{"type": "run.create", "body": create}, {"type": "run.update", "body": update}]
    events += [{"type": "step.create", "body": step} for step in steps]
    if root_span is not None:
        stored = stored or Stored()
        source = create["metadata"]["agent_name_source"]
        update["metadata"] = {"resource": create["metadata"]["resource"]}  # the root's service is the run's
        if source in AGENT_NAME_KEYS or stored.agent_name_source not in AGENT_NAME_KEYS:
            update["agent_name"] = create["agent_name"]
            update["metadata"]["agent_name_source"] = source
        update["input"] = run_io(steps, "input", stored=stored.first_llm_input)
        events.append({"type": "run.end", "body": run_end_body(run_id=run_id, steps=steps, stored=stored)})
    return events


def start_order(spans: list[Span]) -> list[Span]:
    """By start time, each span after its parent (when its parent is here) whatever the clocks say."""
    by_id = {span.span_id: span for span in spans}
    placed: set[str] = set()
    ordered = []
    for span in sorted(spans, key=lambda span: span.start.replace(tzinfo=None) if span.start else NEVER):
        chain, node = [], span
        while node is not None and node.span_id not in placed and node not in chain:
            chain.append(node)
            node = by_id.get(node.parent_span_id)
        for node in reversed(chain):
            placed.add(node.span_id)
            ordered.append(node)
    return ordered


def run_body(*, run_id: uuid.UUID, spans: list[Span], steps: list[dict], root: Span | None) -> dict:
    name, source = agent_name(spans, root)
    body = {
        "id": run_id,
        "external_id": spans[0].trace_id,
        "agent_name": name[:MAX_NAME],
        "input": run_io(steps, "input"),
        "metadata": {**run_metadata(spans, root), "agent_name_source": source},
        **run_session(spans),
    }
    starts = [span.start for span in spans if span.start]
    if starts:
        body["started_at"] = min(starts)
    return body


def run_end_body(*, run_id: uuid.UUID, steps: list[dict], stored: Stored) -> dict:
    root = next(step for step in steps if step["parent_span_id"] is None)
    body = {
        "run_id": run_id,
        "status": RunStatus.FAILED if root.get("error") is not None else RunStatus.COMPLETED,
        "output": run_io(steps, "output", stored=stored.last_llm_output),
        "error": root.get("error"),
    }
    if root.get("ended_at"):
        body["ended_at"] = root["ended_at"]
    return body


def run_io(steps: list[dict], key: str, *, stored: tuple[datetime, object] | None = None):
    """The root span's input (output), else the first (last) LLM step's, here or `stored` (when the
    root is here: a run's input is known once the root span has arrived)."""
    top = next((step for step in steps if step["parent_span_id"] is None), None)
    if top is not None and top.get(key) is not None:
        return top[key]
    found = [
        (step["started_at"], step[key])
        for step in steps
        if step["step_type"] == StepType.LLM_CALL and step.get(key) is not None
    ]
    if stored is not None:
        found.append(stored)
    if not found:
        return None
    pick = min if key == "input" else max
    return pick(found, key=lambda item: item[0] or datetime.min.replace(tzinfo=UTC))[1]


def agent_name(spans: list[Span], root: Span | None) -> tuple[str, str]:
    """(name, where it came from): `gen_ai.agent.name` (or OpenInference's `agent.name`) of the first
    span carrying one, else the root span's name, else the resource's `service.name`."""
    for span in spans:
        for key in AGENT_NAME_KEYS:
            if isinstance(span.attributes.get(key), str) and span.attributes[key]:
                return span.attributes[key], key
    if root is not None and root.name:
        return root.name, "root span"
    service = (root or spans[0]).resource.get("service.name")
    return (str(service), "service.name") if service else ("otel", "none")


def run_metadata(spans: list[Span], root: Span | None) -> dict:
    return {"source": "otlp", "resource": (root or spans[0]).resource}


def run_session(spans: list[Span]) -> dict:
    """The run's `session_id` and `user_id`, from the first span carrying each (a later request's
    spans may carry them when this one's don't: run.update sets them then)."""
    found = {}
    for target, keys in (("session_id", SESSION_KEYS), ("user_id", USER_KEYS)):
        value = next((span.attributes[key] for span in spans for key in keys if span.attributes.get(key)), None)
        if value is not None:
            found[target] = str(value)[:MAX_NAME]
    return found


# A span: a step -------------------------------------------------------------------------------------


def step_body(span: Span, *, run_id: uuid.UUID, step_ids: dict[str, uuid.UUID]) -> dict:
    """The `step.create` body of `span`; `step_ids` are the step ids of the spans known so far."""
    attributes = dict(span.attributes)
    step_type, source_kind = span_type(attributes)
    parent = span.parent_span_id
    body = {
        "id": step_ids[span.span_id],
        "run_id": run_id,
        "step_type": step_type,
        "name": span.name[:MAX_NAME],
        "started_at": span.start,
        "ended_at": span.end,
        "span_id": span.span_id,
        "parent_span_id": span.parent_span_id,
        "parent_id": (step_ids.get(parent) or step_id_for(run_id, parent)) if parent else None,
    }
    metadata = {"source_kind": source_kind}
    FILLERS[step_type](attributes, body, metadata)
    usage_fill(attributes, body, metadata)
    model_fill(attributes, metadata)
    error, events = span_error(span, attributes)
    if error is not None:
        body["error"] = error
    metadata["otel"] = otel_fields(span, events)
    if attributes:
        metadata["attributes"] = attributes
    body["metadata"] = metadata
    return body


def span_type(attributes: dict) -> tuple[str, str]:
    """(step type, the value that decided it)."""
    kind = attributes.get("openinference.span.kind")
    if isinstance(kind, str) and kind.upper() in OPENINFERENCE_TYPES:
        del attributes["openinference.span.kind"]
        return OPENINFERENCE_TYPES[kind.upper()], kind
    operation = attributes.get("gen_ai.operation.name")
    if operation in OPERATION_TYPES:
        del attributes["gen_ai.operation.name"]
        return OPERATION_TYPES[operation], operation
    if any(key.startswith("gen_ai.tool.") and key not in NOT_A_TOOL_CALL for key in attributes):
        return StepType.TOOL_CALL, "gen_ai.tool"
    if any(attributes.get(key) for key in MODEL_KEYS):
        return StepType.LLM_CALL, "model"
    return StepType.CUSTOM, "span"


def llm_fill(attributes: dict, body: dict, metadata: dict) -> None:
    body["input"] = input_messages(attributes)
    if body["input"] is None:
        body["input"] = io_value(attributes, "input")
    body["output"] = output_messages(attributes)
    if body["output"] is None:
        body["output"] = io_value(attributes, "output")
    reasons = take_first(attributes, ("gen_ai.response.finish_reasons", "llm.finish_reason"))
    if reasons is None and isinstance(body["output"], list):
        reasons = [m["finish_reason"] for m in body["output"] if isinstance(m, dict) and m.get("finish_reason")]
    if reasons:
        metadata["finish_reasons"] = reasons if isinstance(reasons, list) else [reasons]


def tool_fill(attributes: dict, body: dict, metadata: dict) -> None:
    name = take_first(attributes, ("gen_ai.tool.name", "tool.name"))
    if name:
        body["name"] = str(name)[:MAX_NAME]
    arguments = take_first(attributes, ("gen_ai.tool.call.arguments",))
    body["input"] = json_value(arguments) if arguments is not None else io_value(attributes, "input")
    result = take_first(attributes, ("gen_ai.tool.call.result",))
    body["output"] = json_value(result) if result is not None else io_value(attributes, "output")
    call_id = take_first(attributes, ("gen_ai.tool.call.id", "tool_call.id"))
    if call_id is not None:
        metadata["tool_call_id"] = call_id


def retrieval_fill(attributes: dict, body: dict, metadata: dict) -> None:
    body["input"] = io_value(attributes, "input")
    body["output"] = io_value(attributes, "output")
    if body["output"] is None:
        body["output"] = unflatten(attributes, "retrieval.documents")


def custom_fill(attributes: dict, body: dict, metadata: dict) -> None:
    body["input"] = io_value(attributes, "input")
    if body["input"] is None and "gen_ai.input.messages" in attributes:
        body["input"] = input_messages(attributes)
    body["output"] = io_value(attributes, "output")
    if body["output"] is None:
        body["output"] = output_messages(attributes)
    if body["output"] is None:
        body["output"] = json_value(attributes.pop("final_result", None))  # pydantic-ai's agent answer


FILLERS = {
    StepType.LLM_CALL: llm_fill,
    StepType.TOOL_CALL: tool_fill,
    StepType.RETRIEVAL: retrieval_fill,
    StepType.CUSTOM: custom_fill,
}


def io_value(attributes: dict, direction: str):
    """OpenInference's `input.value` (JSON when its mime type says so) or OpenLLMetry's entity input."""
    mime = attributes.pop(f"{direction}.mime_type", None)
    value = take_first(attributes, (f"{direction}.value", f"traceloop.entity.{direction}"))
    if value is None or mime == "text/plain":
        if value is None and mime is not None:
            attributes[f"{direction}.mime_type"] = mime
        return value
    return json_value(value)


def usage_fill(attributes: dict, body: dict, metadata: dict) -> None:
    cost = take_first(attributes, COST_KEYS)
    if isinstance(cost, int | float | str) and not isinstance(cost, bool):
        metadata["cost_usd"] = cost  # kept as reported (apps.runs.pricing)
    usage = {}
    for name, keys in TOKEN_KEYS.items():
        count = take_first(attributes, keys)
        if count is not None:
            usage[name] = count
    if not usage:
        return
    metadata["usage"] = usage
    total = usage.get("total_tokens")
    if total is None and ("input_tokens" in usage or "output_tokens" in usage):
        total = _count(usage.get("input_tokens")) + _count(usage.get("output_tokens"))
    if total is not None:
        body["tokens_used"] = min(_count(total), INT_MAX)


def _count(value) -> int:
    try:
        return max(int(value), 0)
    except (TypeError, ValueError):
        return 0


def model_fill(attributes: dict, metadata: dict) -> None:
    for target, keys in (("model", MODEL_KEYS), ("provider", PROVIDER_KEYS)):
        value = take_first(attributes, keys)
        if value:
            metadata[target] = value


def take_first(attributes: dict, keys: tuple[str, ...]):
    """The first of `keys` set in `attributes`, taken out with every other key holding the same value
    (a spelling of the same thing); keys with another value stay."""
    value = None
    for key in keys:
        if key not in attributes:
            continue
        found = attributes[key]
        if value is None and found not in (None, ""):
            value = found
            del attributes[key]
        elif value is not None and found == value:
            del attributes[key]
    return value


def span_error(span: Span, attributes: dict) -> tuple[dict | None, list[dict]]:
    """The step's error (from status ERROR and the last `exception` event), and the span's other events.

    An exception recorded on a span whose status is OK was handled: it stays an event."""
    raised = [event for event in span.events if event["name"] == "exception"]
    if span.status_code == STATUS_OK or (span.status_code != STATUS_ERROR and not raised):
        return None, span.events
    error, details = {}, dict(raised[-1]["attributes"]) if raised else {}
    for target, key in (
        ("type", "exception.type"),
        ("message", "exception.message"),
        ("stack", "exception.stacktrace"),
    ):
        if details.get(key) not in (None, ""):
            error[target] = details.pop(key)
    if "type" not in error and "error.type" in attributes:
        error["type"] = attributes.pop("error.type")
    if span.status_message:
        error.setdefault("message", span.status_message)
        if error["message"] != span.status_message:
            error["status_message"] = span.status_message
    error.setdefault("message", "The span ended with an error.")
    if details:
        error["attributes"] = details
    return error, [event for event in span.events if not raised or event is not raised[-1]]


def otel_fields(span: Span, events: list[dict]) -> dict:
    fields = {"trace_id": span.trace_id, "span_id": span.span_id, "kind": span.kind, "scope": span.scope}
    if span.parent_span_id:
        fields["parent_span_id"] = span.parent_span_id
    for key, value in (("events", events), ("links", span.links), ("trace_state", span.trace_state)):
        if value:
            fields[key] = value
    return fields
