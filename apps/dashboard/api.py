from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.decorators import api_view
from rest_framework.response import Response

from apps.dashboard.selectors import project_stats
from apps.projects.selectors import project_get
from apps.projects.serializers import StatsOutput

PERIODS = {"24h": 1, "7d": 7, "30d": 30}


@extend_schema(
    parameters=[OpenApiParameter("period", str, enum=list(PERIODS), description="Default 7d.")],
    responses={200: StatsOutput},
)
@api_view(["GET"])
def stats(request, project_id):
    project = project_get(user=request.user, project_id=project_id)
    days = PERIODS.get(request.query_params.get("period", "7d"), 7)
    return Response(project_stats(project=project, days=days))
