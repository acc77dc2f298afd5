from apps.core.urls import slash_path
from apps.mcp import views

app_name = "mcp"
urlpatterns = [
    *slash_path("mcp", views.index, name="index"),
    *slash_path("mcp/tools/<uuid:tool_id>", views.tool_detail, name="tool"),
    *slash_path("mcp/logs/<uuid:log_id>", views.log_detail, name="log"),
]
