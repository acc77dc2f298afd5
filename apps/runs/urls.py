from apps.core.urls import slash_path
from apps.runs import views

app_name = "runs"
urlpatterns = [
    *slash_path("runs", views.run_list, name="list"),
    *slash_path("runs/<uuid:run_id>", views.run_detail, name="detail"),
    *slash_path("runs/<uuid:run_id>/timeline", views.run_timeline, name="timeline"),
    *slash_path("runs/<uuid:run_id>/delete", views.run_delete, name="delete"),
]
