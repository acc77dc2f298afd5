"""The SDK-facing API: authenticated only by `X-Agentscope-Key`, scoped to the key's project."""

import functools

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import (
    api_view,
    authentication_classes,
    parser_classes,
    permission_classes,
    renderer_classes,
    throttle_classes,
)
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from apps.core.metrics import ingest_counted
from apps.ingest import services
from apps.ingest.batch import batch_ingest
from apps.ingest.parsers import IngestJSONParser
from apps.ingest.serializers import (
    IngestBatchInput,
    IngestBatchOutput,
    IngestBatchSchemaInput,
    IngestErrorOutput,
    IngestMcpLogInput,
    IngestMcpLogOutput,
    IngestMcpToolInput,
    IngestMcpToolOutput,
    IngestRunCreateInput,
    IngestRunEndInput,
    IngestRunOutput,
    IngestRunUpdateInput,
    IngestStepCreateInput,
    IngestStepCreateOutput,
    IngestStepUpdateInput,
    run_output,
    step_output,
)
from apps.ingest.throttling import IngestThrottle
from apps.ingest.validation import input_checker
from apps.mcp import services as mcp_services
from apps.projects.authentication import ApiKeyAuthentication, HasApiKey


class JSONAnswers(DefaultContentNegotiation):
    """Ingest answers JSON whatever the client's Accept says (DRF's default would parse it on every
    request only to pick the one renderer there is); bodies are still matched to their parser."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


def ingest_api(methods: list[str], throttle: type[IngestThrottle] = IngestThrottle, event: bool = False):
    """`api_view` with the key authentication, throttle and bounded JSON parser of every ingest route;
    an `event` route (one run, step or MCP event) is counted for /metrics, accepted or refused."""

    def decorator(view):
        view.content_negotiation_class = JSONAnswers
        for configure in (
            authentication_classes([ApiKeyAuthentication]),
            permission_classes([HasApiKey]),
            throttle_classes([throttle]),
            parser_classes([IngestJSONParser]),
            renderer_classes([JSONRenderer]),
        ):
            view = configure(view)
        view = api_view(methods)(view)
        return _counted(view) if event else view

    return decorator


def _counted(view):
    @functools.wraps(view)
    def counted(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        ok = 200 <= response.status_code < 300
        ingest_counted(int(ok), int(not ok))
        return response

    return counted


def errors(*codes: int) -> dict:
    return dict.fromkeys((401, 413, 429, *codes), IngestErrorOutput)


def valid(serializer_class, request) -> dict:
    if type(request.data) is dict:
        return input_checker(serializer_class)(request.data)
    serializer = serializer_class(data=request.data)  # not an object: DRF's own answer ("No data provided"…)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def project(request):
    return request.auth.project


@extend_schema(
    tags=["ingest"],
    request=IngestRunCreateInput,
    responses={201: IngestRunOutput, 200: IngestRunOutput, **errors(400, 409)},
    description="Creates a run. A retry with the same `id` or `external_id` answers 200 with the stored run.",
)
@ingest_api(["POST"], event=True)
def run_create(request):
    data = valid(IngestRunCreateInput, request)
    result = services.ingest_run_write(project=project(request), kind="run.create", data=data)
    return Response(run_output(result.run), status=result.status)


@extend_schema(tags=["ingest"], request=IngestRunUpdateInput, responses={200: IngestRunOutput, **errors(400, 404)})
@ingest_api(["PATCH"], event=True)
def run_update(request, run_id):
    data = {**valid(IngestRunUpdateInput, request), "run_id": run_id}
    result = services.ingest_run_write(project=project(request), kind="run.update", data=data)
    return Response(run_output(result.run))


@extend_schema(
    tags=["ingest"],
    request=IngestRunEndInput,
    responses={200: IngestRunOutput, **errors(400, 404)},
    description="Ends a run: status is the one given, else failed when it has an error, else completed.",
)
@ingest_api(["POST"], event=True)
def run_end(request, run_id):
    data = {**valid(IngestRunEndInput, request), "run_id": run_id}
    result = services.ingest_run_write(project=project(request), kind="run.end", data=data)
    return Response(run_output(result.run))


@extend_schema(
    tags=["ingest"],
    request=IngestStepCreateInput,
    responses={201: IngestStepCreateOutput, 200: IngestStepCreateOutput, **errors(400, 404, 409)},
    description="Adds a step. Without output, error or ended_at it is running until patched.",
)
@ingest_api(["POST"], event=True)
def step_create(request, run_id):
    data = {**valid(IngestStepCreateInput, request), "run_id": run_id}
    result, control = services.ingest_step_write(project=project(request), kind="step.create", data=data)
    return Response({**step_output(result.row), "control": control}, status=result.status)


@extend_schema(
    tags=["ingest"], request=IngestStepUpdateInput, responses={200: IngestStepCreateOutput, **errors(400, 404)}
)
@ingest_api(["PATCH"], event=True)
def step_update(request, run_id, step_id):
    data = {**valid(IngestStepUpdateInput, request), "run_id": run_id, "id": step_id}
    result, control = services.ingest_step_write(project=project(request), kind="step.update", data=data)
    return Response({**step_output(result.row), "control": control})


@extend_schema(
    tags=["ingest"],
    request=IngestMcpToolInput,
    responses={201: IngestMcpToolOutput, 200: IngestMcpToolOutput, **errors(400)},
)
@ingest_api(["POST"], event=True)
def mcp_tool(request):
    data = valid(IngestMcpToolInput, request)
    tool, created = mcp_services.mcp_tool_upsert(project=project(request), tool_name=data["tool_name"], data=data)
    return Response(IngestMcpToolOutput(tool).data, status=201 if created else 200)


@extend_schema(
    tags=["ingest"],
    request=IngestMcpLogInput,
    responses={201: IngestMcpLogOutput, 200: IngestMcpLogOutput, **errors(400, 404, 409)},
    description="Logs one call. A retry with the same `id` answers 200 with the stored log.",
)
@ingest_api(["POST"], event=True)
def mcp_log(request):
    data = valid(IngestMcpLogInput, request)
    log, created = mcp_services.mcp_log_create(project=project(request), log_type=data["log_type"], data=data)
    return Response(IngestMcpLogOutput(log).data, status=201 if created else 200)


@extend_schema(
    tags=["ingest"],
    request=IngestBatchSchemaInput,
    responses={207: IngestBatchOutput, **errors(400)},
    description=(
        "Up to 1,000 events (`run.create`, `run.update`, `run.end`, `step.create`, `step.update`, "
        "`mcp.tool`, `mcp.log`), each with the body of its single endpoint plus `run_id` (and the "
        "step's `id` for `step.update`). Answers 207 with one result per event, in order."
    ),
)
@ingest_api(["POST"])
def batch(request):
    events = valid(IngestBatchInput, request)["events"]
    results = batch_ingest(project=project(request), events=events)
    accepted = sum(200 <= result["status"] < 300 for result in results)
    ingest_counted(accepted, len(results) - accepted)
    return Response({"results": results}, status=207)
