"""What the SDK reads about breakpoints: which steps of the key's project may pause (so that it
posts only those steps synchronously and sends every other step through the batch), and the pause
protocol's poll: what a step waiting at a breakpoint does next."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from apps.breakpoints.models import Breakpoint
from apps.breakpoints.selectors import breakpoints_enabled_for_project, run_control
from apps.breakpoints.serializers import ControlOutput, ControlQuery, ControlTimeoutInput
from apps.breakpoints.services import breakpoint_hit_time_out
from apps.core.api import validated
from apps.ingest.api import errors, ingest_api, project, valid
from apps.ingest.throttling import IngestControlThrottle
from apps.runs.selectors import run_get_for_project


class IngestBreakpointOutput(serializers.ModelSerializer):
    class Meta:
        model = Breakpoint
        fields = ["id", "name", "condition_type", "condition_value", "agent_name"]


class IngestBreakpointListOutput(serializers.Serializer):
    results = IngestBreakpointOutput(many=True)


@extend_schema(
    tags=["ingest"],
    responses={200: IngestBreakpointListOutput, **errors()},
    description=(
        "The project's enabled breakpoints. The SDK caches them for a few seconds and posts a step "
        "synchronously (`POST /api/ingest/run/{run_id}/step`) only when one of them could stop it."
    ),
)
@ingest_api(["GET"])
def breakpoint_list(request):
    breakpoints = breakpoints_enabled_for_project(project=project(request))
    return Response({"results": IngestBreakpointOutput(breakpoints, many=True).data})


@extend_schema(
    tags=["ingest"],
    methods=["GET"],
    parameters=[ControlQuery],
    responses={200: ControlOutput, **errors(400, 404)},
    description="What the agent does about a step waiting at a breakpoint: `pause` (poll again) or the decision.",
)
@extend_schema(
    tags=["ingest"],
    methods=["POST"],
    request=ControlTimeoutInput,
    responses={200: ControlOutput, **errors(400, 404)},
    description="The agent stopped waiting (its maximum wait passed): the answer is the decision it goes on with.",
)
@ingest_api(["GET", "POST"], throttle=IngestControlThrottle)
def run_control_api(request, run_id):
    run = run_get_for_project(project=project(request), run_id=run_id)
    if request.method == "GET":
        query = validated(ControlQuery, request.query_params)  # read as a dict: an empty `hit_id=` is refused
        return Response(run_control(run=run, hit_id=query.get("hit_id")))
    data = valid(ControlTimeoutInput, request)
    return Response(breakpoint_hit_time_out(run=run, hit_id=data["hit_id"], waited_ms=data.get("waited_ms")))
