from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from apps.orgs.models import AuditEntry, Invitation, Membership, Organization


def orgs_for_user(*, user) -> QuerySet[Organization]:
    return Organization.objects.filter(memberships__user=user)


def org_get(*, user, organization_id) -> Organization:
    """The organization if the user is in it, else 404: an outsider must not learn it exists."""
    return get_object_or_404(orgs_for_user(user=user), pk=organization_id)


def members_for_org(*, organization) -> QuerySet[Membership]:
    return organization.memberships.select_related("user").order_by("created_at")


def membership_get(*, organization, user_id) -> Membership:
    return get_object_or_404(members_for_org(organization=organization), user_id=user_id)


def invitations_pending(*, organization) -> QuerySet[Invitation]:
    return organization.invitations.filter(
        accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).select_related("invited_by")


def invitation_get(*, organization, invitation_id) -> Invitation:
    return get_object_or_404(organization.invitations, pk=invitation_id)


def invitation_by_token(*, raw_token: str) -> Invitation | None:
    return Invitation.objects.select_related("organization").filter(token_hash=Invitation.hash(raw_token)).first()


def audit_entries(*, organization, action: str = "", actor: str = "", since=None, until=None) -> QuerySet[AuditEntry]:
    entries = organization.audit_entries.all()
    if action:
        entries = entries.filter(action=action)
    if actor:
        entries = entries.filter(actor_label__icontains=actor)
    if since:
        entries = entries.filter(created_at__gte=since)
    if until:
        entries = entries.filter(created_at__lt=until)
    return entries


def audit_actions(*, organization) -> list[str]:
    return sorted(set(organization.audit_entries.values_list("action", flat=True).distinct()))
