from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from apps.core.errors import ApplicationError
from apps.orgs.audit import Actor, audit_record
from apps.orgs.models import Invitation, Membership, Organization
from apps.orgs.roles import RANK, Role

INVITATION_LIFETIME = timedelta(days=7)


@transaction.atomic
def org_create(*, user, name: str, actor: Actor | None = None) -> Organization:
    organization = Organization.objects.create(name=name)
    Membership.objects.create(organization=organization, user=user, role=Role.OWNER)
    audit_record(actor=actor, organization_id=organization.pk, action="org.created", target=organization)
    return organization


def personal_org_name(user) -> str:
    return f"{user.display_name}'s organization"


def personal_org(*, user) -> Organization:
    """The first organization the user owns, made for them if they own none."""
    owned = Organization.objects.filter(memberships__user=user, memberships__role=Role.OWNER).order_by("created_at")
    return owned.first() or org_create(user=user, name=personal_org_name(user))


def org_update(*, organization: Organization, name: str, actor: Actor | None = None) -> Organization:
    if name != organization.name:
        audit_record(
            actor=actor, organization_id=organization.pk, action="org.renamed", target=organization,
            changes={"name": [organization.name, name]},
        )  # fmt: skip
        organization.name = name
        organization.save(update_fields=["name", "updated_at"])
    return organization


def org_delete(*, organization: Organization) -> None:
    organization.delete()  # its projects, runs, members, invitations and audit log go with it


def _owners_left(membership: Membership) -> int:
    """The organization's other owners. Every owner row is locked, the member's own included, so two
    owners demoting each other at once are taken one after the other: exactly one of them stays owner."""
    owners = Membership.objects.select_for_update().filter(organization_id=membership.organization_id, role=Role.OWNER)
    return sum(pk != membership.pk for pk in owners.values_list("pk", flat=True))


@transaction.atomic
def member_role_change(*, membership: Membership, role: str, actor: Actor | None = None) -> Membership:
    if role not in Role.values:
        raise ApplicationError("Unknown role.", errors={"role": [f"Choose one of {', '.join(Role.values)}."]})
    if membership.role == Role.OWNER and role != Role.OWNER and _owners_left(membership) == 0:
        raise ApplicationError(
            "An organization keeps at least one owner: make someone else owner first.", errors={"role": ["Last owner."]}
        )
    if role != membership.role:
        audit_record(
            actor=actor, organization_id=membership.organization_id, action="member.role_changed",
            target=membership.user, changes={"role": [membership.role, role]},
        )  # fmt: skip
        membership.role = role
        membership.save(update_fields=["role", "updated_at"])
    return membership


@transaction.atomic
def member_remove(*, membership: Membership, by_role: str, actor: Actor | None = None) -> None:
    """Remove a member (or leave, when the actor is the member). Admins remove only those below owner."""
    leaving = actor is not None and actor.user is not None and actor.user.pk == membership.user_id
    if membership.role == Role.OWNER and not leaving and RANK[Role(by_role)] < RANK[Role.OWNER]:
        raise ApplicationError("Only an owner can remove an owner.", status=403)
    if membership.role == Role.OWNER and _owners_left(membership) == 0:
        raise ApplicationError("The last owner can't leave: make someone else owner first.")
    audit_record(
        actor=actor, organization_id=membership.organization_id, action="member.removed", target=membership.user,
        changes={"role": [membership.role, None]},
    )  # fmt: skip
    membership.delete()


def _send_invitation(invitation: Invitation, raw_token: str, accept_url: str) -> None:
    inviter = invitation.invited_by.display_name if invitation.invited_by else "Someone"
    body = (
        f"{inviter} invited you to join {invitation.organization.name} on AgentScope as {invitation.role}.\n\n"
        f"Open this link within 7 days to accept:\n{accept_url}\n"
    )
    # robust: a mail server that is down is logged, never a 500 after the invitation is saved (the
    # admin still gets the link to share, shown once on the answer)
    transaction.on_commit(
        lambda: send_mail(
            f"Join {invitation.organization.name} on AgentScope", body, settings.DEFAULT_FROM_EMAIL, [invitation.email]
        ),
        robust=True,
    )


def _check_invitable_role(*, role: str, by_role: str) -> None:
    if role not in Role.values:
        raise ApplicationError("Unknown role.", errors={"role": [f"Choose one of {', '.join(Role.values)}."]})
    if role == Role.OWNER and by_role != Role.OWNER:
        raise ApplicationError("Only an owner can invite an owner.", errors={"role": ["Needs the owner role."]})


@transaction.atomic
def invitation_create(
    *, organization: Organization, email: str, role: str, by_role: str, actor: Actor, accept_url
) -> tuple[Invitation, str]:
    """A new invitation and its raw token (only the hash is stored: the link can be shown only now).
    `accept_url(raw_token)` builds the link the email carries."""
    _check_invitable_role(role=role, by_role=by_role)
    email = email.strip().lower()
    if Membership.objects.filter(organization=organization, user__email=email).exists():
        raise ApplicationError("That person is already a member.", errors={"email": ["Already a member."]})
    raw = Invitation.generate()
    invitation = Invitation.objects.create(
        organization=organization, email=email, role=role, token_hash=Invitation.hash(raw), invited_by=actor.user,
        expires_at=timezone.now() + INVITATION_LIFETIME,
    )  # fmt: skip
    audit_record(
        actor=actor, organization_id=organization.pk, action="member.invited", target=invitation,
        changes={"email": email, "role": role},
    )  # fmt: skip
    _send_invitation(invitation, raw, accept_url(raw))
    return invitation, raw


@transaction.atomic
def invitation_resend(*, invitation: Invitation, actor: Actor, accept_url) -> tuple[Invitation, str]:
    """A fresh token and 7 more days; the old link stops working."""
    if invitation.state() in ("accepted", "revoked"):
        raise ApplicationError(f"This invitation was {invitation.state()}: invite again instead.")
    raw = Invitation.generate()
    invitation.token_hash = Invitation.hash(raw)
    invitation.expires_at = timezone.now() + INVITATION_LIFETIME
    invitation.save(update_fields=["token_hash", "expires_at"])
    audit_record(
        actor=actor, organization_id=invitation.organization_id, action="member.invite_resent", target=invitation
    )
    _send_invitation(invitation, raw, accept_url(raw))
    return invitation, raw


def invitation_revoke(*, invitation: Invitation, actor: Actor | None = None) -> Invitation:
    if invitation.state() == "pending":
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor, organization_id=invitation.organization_id, action="member.invite_revoked", target=invitation
        )
    return invitation


INVITATION_REFUSALS = {
    "accepted": "This invitation has already been used.",
    "revoked": "This invitation was revoked. Ask whoever invited you for a new one.",
    "expired": "This invitation has expired. Ask whoever invited you to resend it.",
}


def invitation_check(invitation: Invitation | None) -> Invitation:
    """The invitation if it can still be accepted, else an ApplicationError saying why not."""
    if invitation is None:
        raise ApplicationError("This invitation link is not valid. Check that you copied all of it.", status=404)
    if (state := invitation.state()) != "pending":
        raise ApplicationError(INVITATION_REFUSALS[state], status=410)
    return invitation


@transaction.atomic
def invitation_accept(*, invitation: Invitation | None, user, ip: str | None = None) -> Membership:
    """Join the organization. Claimed with a compare-and-set, so a link used twice at once joins once."""
    invitation = invitation_check(invitation)
    if user.email.lower() != invitation.email.lower():
        raise ApplicationError(
            f"This invitation is for {invitation.email}; you are signed in as {user.email}.", status=403
        )
    now = timezone.now()
    claimed = Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True).update(
        accepted_at=now, accepted_by=user
    )
    if not claimed:
        raise ApplicationError(INVITATION_REFUSALS["accepted"], status=410)
    membership, _ = Membership.objects.get_or_create(
        organization_id=invitation.organization_id, user=user, defaults={"role": invitation.role}
    )
    audit_record(
        actor=Actor(user=user, ip=ip), organization_id=invitation.organization_id, action="member.joined",
        target=user, changes={"role": membership.role, "invitation": str(invitation.pk)},
    )  # fmt: skip
    return membership
