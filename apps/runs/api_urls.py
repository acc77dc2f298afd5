from apps.breakpoints.api import run_resume_api
from apps.core.urls import slash_path

urlpatterns: list = [
    *slash_path("/<uuid:run_id>/resume", run_resume_api),
]
