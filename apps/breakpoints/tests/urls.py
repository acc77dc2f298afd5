"""The root urlconf plus the two protocol routes the lead wires into ingest and runs."""

from django.urls import include, path

from apps.breakpoints import api
from apps.core.urls import slash_path

urlpatterns = [
    *slash_path("api/ingest/run/<uuid:run_id>/control", api.run_control_api),
    *slash_path("api/runs/<uuid:run_id>/resume", api.run_resume_api),
    path("", include("agentscope.urls")),
]
