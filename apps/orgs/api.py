from django.db.models import F
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.decorators import api_view
from rest_framework.response import Response

from apps.core.api import validated
from apps.core.errors import ErrorOutput
from apps.core.pagination import paginated, paginates
from apps.orgs import selectors, services
from apps.orgs.audit import actor_from_request
from apps.orgs.permissions import authorize
from apps.orgs.serializers import (
    AcceptInput,
    AuditEntryOutput,
    AuditFilter,
    InvitationCreatedOutput,
    InvitationInput,
    InvitationOutput,
    MemberOutput,
    OrgInput,
    OrgOutput,
    RoleInput,
)


def accept_url(request):
    return lambda raw: request.build_absolute_uri(reverse("projects:invitation", args=[raw]))


def _org(request, organization_id, action: str):
    organization = selectors.org_get(user=request.user, organization_id=organization_id)
    organization.role = authorize(user=request.user, organization_id=organization.pk, action=action)
    return organization


@extend_schema(methods=["GET"], tags=["orgs"], responses={200: OrgOutput(many=True)})
@extend_schema(methods=["POST"], tags=["orgs"], request=OrgInput, responses={201: OrgOutput})
@paginates
@api_view(["GET", "POST"])
def org_list(request):
    if request.method == "GET":
        orgs = selectors.orgs_for_user(user=request.user).annotate(role=F("memberships__role"))
        return paginated(request, orgs, OrgOutput)
    data = validated(OrgInput, request.data)
    organization = services.org_create(user=request.user, name=data["name"], actor=actor_from_request(request))
    organization.role = "owner"
    return Response(OrgOutput(organization).data, status=201)


@extend_schema(methods=["GET"], tags=["orgs"], responses={200: OrgOutput})
@extend_schema(methods=["PATCH"], tags=["orgs"], request=OrgInput, responses={200: OrgOutput})
@extend_schema(methods=["DELETE"], tags=["orgs"], responses={204: None})
@api_view(["GET", "PATCH", "DELETE"])
def org_detail(request, organization_id):
    action = {"GET": "read", "DELETE": "org.delete"}.get(request.method, "org.edit")
    organization = _org(request, organization_id, action)
    if request.method == "DELETE":
        services.org_delete(organization=organization)
        return Response(status=204)
    if request.method == "PATCH":
        name = validated(OrgInput, request.data)["name"]
        services.org_update(organization=organization, name=name, actor=actor_from_request(request))
    return Response(OrgOutput(organization).data)


@extend_schema(tags=["orgs"], responses={200: MemberOutput(many=True)})
@paginates
@api_view(["GET"])
def member_list(request, organization_id):
    organization = _org(request, organization_id, "read")
    return paginated(request, selectors.members_for_org(organization=organization), MemberOutput)


@extend_schema(methods=["PATCH"], tags=["orgs"], request=RoleInput, responses={200: MemberOutput})
@extend_schema(methods=["DELETE"], tags=["orgs"], responses={204: None})
@api_view(["PATCH", "DELETE"])
def member_detail(request, organization_id, user_id):
    """Change a member's role (owners), or remove them (admins, for members below owner; anyone, to leave)."""
    leaving = request.method == "DELETE" and user_id == request.user.pk
    action = "read" if leaving else ("member.remove" if request.method == "DELETE" else "member.role")
    organization = _org(request, organization_id, action)
    membership = selectors.membership_get(organization=organization, user_id=user_id)
    actor = actor_from_request(request)
    if request.method == "DELETE":
        services.member_remove(membership=membership, by_role=organization.role, actor=actor)
        return Response(status=204)
    role = validated(RoleInput, request.data)["role"]
    return Response(MemberOutput(services.member_role_change(membership=membership, role=role, actor=actor)).data)


@extend_schema(methods=["GET"], tags=["orgs"], responses={200: InvitationOutput(many=True)})
@extend_schema(methods=["POST"], tags=["orgs"], request=InvitationInput, responses={201: InvitationCreatedOutput})
@paginates
@api_view(["GET", "POST"])
def invitation_list(request, organization_id):
    organization = _org(request, organization_id, "member.invite")
    if request.method == "GET":
        return paginated(request, selectors.invitations_pending(organization=organization), InvitationOutput)
    data = validated(InvitationInput, request.data)
    invitation, raw = services.invitation_create(
        organization=organization, **data, by_role=organization.role, actor=actor_from_request(request),
        accept_url=accept_url(request),
    )  # fmt: skip
    invitation.token, invitation.url = raw, accept_url(request)(raw)
    return Response(InvitationCreatedOutput(invitation).data, status=201)


@extend_schema(tags=["orgs"], responses={204: None})
@api_view(["DELETE"])
def invitation_revoke(request, organization_id, invitation_id):
    organization = _org(request, organization_id, "member.invite")
    invitation = selectors.invitation_get(organization=organization, invitation_id=invitation_id)
    services.invitation_revoke(invitation=invitation, actor=actor_from_request(request))
    return Response(status=204)


@extend_schema(tags=["orgs"], request=None, responses={200: InvitationCreatedOutput})
@api_view(["POST"])
def invitation_resend(request, organization_id, invitation_id):
    """A new link (the old one stops working), valid 7 more days, sent again by email."""
    organization = _org(request, organization_id, "member.invite")
    invitation = selectors.invitation_get(organization=organization, invitation_id=invitation_id)
    invitation, raw = services.invitation_resend(
        invitation=invitation, actor=actor_from_request(request), accept_url=accept_url(request)
    )
    invitation.token, invitation.url = raw, accept_url(request)(raw)
    return Response(InvitationCreatedOutput(invitation).data)


@extend_schema(tags=["orgs"], parameters=[AuditFilter], responses={200: AuditEntryOutput(many=True)})
@paginates
@api_view(["GET"])
def audit_log(request, organization_id):
    organization = _org(request, organization_id, "audit.read")
    filters = validated(AuditFilter, request.query_params, omit_none=True)
    return paginated(request, selectors.audit_entries(organization=organization, **filters), AuditEntryOutput)


@extend_schema(
    tags=["orgs"],
    request=AcceptInput,
    responses={
        200: MemberOutput,
        403: OpenApiResponse(ErrorOutput, description="The invitation is for another email."),
        404: OpenApiResponse(ErrorOutput, description="No invitation has this token (mistyped or altered)."),
        410: OpenApiResponse(ErrorOutput, description="The invitation was already used, revoked, or has expired."),
    },
)
@api_view(["POST"])
def invitation_accept(request):
    """Join the organization an invitation is for, as the signed-in user (whose email it must be)."""
    token = validated(AcceptInput, request.data)["token"]
    invitation = selectors.invitation_by_token(raw_token=token)
    membership = services.invitation_accept(invitation=invitation, user=request.user, ip=actor_from_request(request).ip)
    return Response(MemberOutput(membership).data)
