from apps.core.urls import slash_path
from apps.runs import views

app_name = "runs"
urlpatterns = [
    *slash_path("runs", views.run_list, name="list"),
]
