from apps.core.urls import slash_path
from apps.runs import api
from apps.runs.registry import run_page

urlpatterns = [
    *slash_path("", api.run_list),
    *slash_path("/<uuid:run_id>", api.run_detail),
    *slash_path("/<uuid:run_id>/steps", api.run_steps),
    *slash_path("/<uuid:run_id>/timeline", api.run_timeline),
    *slash_path("/<uuid:run_id>/replay", api.run_replay),
    *slash_path("/<uuid:run_id>/compare/<uuid:other_id>", api.run_compare),
    # Routes of the apps above runs (a paused run's resume), registered in their AppConfig.ready().
    *run_page.api_urlpatterns(),
]
