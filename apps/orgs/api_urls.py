from apps.core.urls import slash_path
from apps.orgs import api

urlpatterns = [
    *slash_path("", api.org_list),
    *slash_path("/<uuid:organization_id>", api.org_detail),
    *slash_path("/<uuid:organization_id>/members", api.member_list),
    *slash_path("/<uuid:organization_id>/members/<uuid:user_id>", api.member_detail),
    *slash_path("/<uuid:organization_id>/invitations", api.invitation_list),
    *slash_path("/<uuid:organization_id>/invitations/<uuid:invitation_id>", api.invitation_revoke),
    *slash_path("/<uuid:organization_id>/invitations/<uuid:invitation_id>/resend", api.invitation_resend),
    *slash_path("/<uuid:organization_id>/audit-log", api.audit_log),
]
