"""What the SDK reads about breakpoints: which steps of the key's project may pause, so that it
posts only those steps synchronously and sends every other step through the batch."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from apps.breakpoints.models import Breakpoint
from apps.breakpoints.selectors import breakpoints_enabled_for_project
from apps.ingest.api import errors, ingest_api, project


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
