from apps.breakpoints import views
from apps.core.urls import slash_path

app_name = "breakpoints"
urlpatterns = [
    *slash_path("breakpoints", views.breakpoint_list, name="list"),
]
