from apps.core.urls import slash_path
from apps.testing import api

urlpatterns = [
    *slash_path("", api.test_list),
    *slash_path("/<uuid:test_id>", api.test_detail),
    *slash_path("/<uuid:test_id>/run", api.test_run),
    *slash_path("/<uuid:test_id>/runs", api.test_history),
    *slash_path("/<uuid:test_id>/backfill", api.test_backfill),
    *slash_path("/<uuid:test_id>/backfills/<uuid:backfill_id>", api.test_backfill_detail),
]
