from django.urls import path

from apps.core.urls import slash_path
from apps.projects import team_views, views

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
    *slash_path("orgs/new", views.org_new, name="org_new"),
    path("orgs/<uuid:organization_id>/edit", team_views.org_update, name="org_update"),
    path("orgs/<uuid:organization_id>/delete", team_views.org_delete, name="org_delete"),
    path("orgs/<uuid:organization_id>/members/<uuid:user_id>/role", team_views.member_role, name="member_role"),
    path("orgs/<uuid:organization_id>/members/<uuid:user_id>/remove", team_views.member_remove, name="member_remove"),
    path("orgs/<uuid:organization_id>/invitations", team_views.invitation_create, name="invitation_create"),
    path(
        "orgs/<uuid:organization_id>/invitations/<uuid:invitation_id>/resend",
        team_views.invitation_resend,
        name="invitation_resend",
    ),
    path(
        "orgs/<uuid:organization_id>/invitations/<uuid:invitation_id>/revoke",
        team_views.invitation_revoke,
        name="invitation_revoke",
    ),
    *slash_path("invitations/<str:token>", team_views.invitation, name="invitation"),
]
