from apps.core.urls import slash_path
from apps.projects import api

urlpatterns = [
    *slash_path("", api.project_list),
    *slash_path("/<uuid:project_id>", api.project_detail),
    *slash_path("/<uuid:project_id>/api-keys", api.api_key_list),
    *slash_path("/<uuid:project_id>/api-keys/<uuid:key_id>", api.api_key_revoke),
]
