from apps.core.urls import slash_path
from apps.testing import views

app_name = "testing"
urlpatterns = [
    *slash_path("tests", views.test_list, name="list"),
    *slash_path("tests/new", views.test_new, name="new"),
    *slash_path("tests/<uuid:test_id>", views.test_detail, name="detail"),
    *slash_path("tests/<uuid:test_id>/edit", views.test_edit, name="edit"),
    *slash_path("tests/<uuid:test_id>/delete", views.test_delete, name="delete"),
    *slash_path("tests/<uuid:test_id>/toggle", views.test_toggle, name="toggle"),
    *slash_path("tests/<uuid:test_id>/run", views.test_run_now, name="run_now"),
]
