from django.urls import path

from apps.core.urls import slash_path
from apps.projects import views

app_name = "projects"
urlpatterns = [
    *slash_path("register", views.register, name="register"),
    *slash_path("settings", views.settings, name="settings"),
    *slash_path("projects/new", views.project_new, name="new"),
    path("projects/<uuid:project_id>/edit", views.project_update, name="update"),
    path("projects/<uuid:project_id>/retention", views.project_retention, name="retention"),
    path("projects/<uuid:project_id>/delete", views.project_delete, name="delete"),
    path("projects/<uuid:project_id>/api-keys", views.api_key_create, name="api_key_create"),
    path("projects/<uuid:project_id>/api-keys/<uuid:key_id>/revoke", views.api_key_revoke, name="api_key_revoke"),
]
