from apps.breakpoints.api import run_resume_api
from apps.core.urls import slash_path
from apps.runs import api

# A plain list: other features add their routes under /api/runs (resume, replay).
urlpatterns: list = [
    *slash_path("", api.run_list),
    *slash_path("/<uuid:run_id>", api.run_detail),
    *slash_path("/<uuid:run_id>/steps", api.run_steps),
    *slash_path("/<uuid:run_id>/timeline", api.run_timeline),
    *slash_path("/<uuid:run_id>/resume", run_resume_api),
    *slash_path("/<uuid:run_id>/replay", api.run_replay),
    *slash_path("/<uuid:run_id>/compare/<uuid:other_id>", api.run_compare),
]
