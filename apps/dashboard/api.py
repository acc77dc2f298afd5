from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view
from rest_framework.response import Response

from apps.core.api import validated
from apps.core.replica import replica_reads
from apps.dashboard.selectors import project_stats
from apps.dashboard.serializers import StatsInput, StatsOutput
from apps.projects.selectors import project_get


@extend_schema(
    parameters=[StatsInput],
    responses={200: StatsOutput},
    description="24h: the last 24 hours against the 24 before. 7d, 30d: whole UTC days, today included, "
    "against as many days before them.",
)
@replica_reads
@api_view(["GET"])
def stats(request, project_id):
    project = project_get(user=request.user, project_id=project_id)
    period = validated(StatsInput, request.query_params)["period"]  # read as a dict: an empty `period=` is refused
    return Response(StatsOutput(project_stats(project=project, period=period)).data)
