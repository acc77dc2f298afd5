from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view
from rest_framework.response import Response

from apps.dashboard.selectors import project_stats
from apps.dashboard.serializers import StatsInput, StatsOutput
from apps.projects.selectors import project_get


@extend_schema(
    parameters=[StatsInput],
    responses={200: StatsOutput},
    description="24h: the last 24 hours against the 24 before. 7d, 30d: whole UTC days, today included, "
    "against as many days before them.",
)
@api_view(["GET"])
def stats(request, project_id):
    project = project_get(user=request.user, project_id=project_id)
    params = StatsInput(data=request.query_params.dict())  # a dict: an empty `period=` is refused, not skipped
    params.is_valid(raise_exception=True)
    return Response(StatsOutput(project_stats(project=project, period=params.validated_data["period"])).data)
