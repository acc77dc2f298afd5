from apps.core.urls import slash_path
from apps.mcp import api

urlpatterns = [
    *slash_path("tools", api.tool_list),
    *slash_path("tools/<uuid:tool_id>", api.tool_detail),
    *slash_path("logs", api.log_list),
    *slash_path("logs/<uuid:log_id>", api.log_detail),
    *slash_path("stats", api.stats),
]
