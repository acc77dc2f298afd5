from apps.core.urls import slash_path
from apps.testing import api

urlpatterns = [
    *slash_path("", api.test_run_list),
    *slash_path("/<uuid:test_run_id>", api.test_run_detail),
]
