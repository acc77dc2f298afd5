from apps.core.urls import slash_path
from apps.mcp import views

app_name = "mcp"
urlpatterns = [
    *slash_path("mcp", views.index, name="index"),
]
