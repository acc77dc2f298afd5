"""The root urlconf plus the resume route the lead wires into runs."""

from django.urls import include, path

from apps.breakpoints import api
from apps.core.urls import slash_path

urlpatterns = [
    *slash_path("api/runs/<uuid:run_id>/resume", api.run_resume_api),
    path("", include("agentscope.urls")),
]
