from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.services import user_register
from apps.orgs.audit import Actor, audit_record
from apps.orgs.models import Organization
from apps.orgs.services import invitation_accept, org_create, personal_org
from apps.projects.models import PREFIX_LENGTH, ApiKey, Project

DEFAULT_PROJECT_NAME = "Default project"


@transaction.atomic
def account_signup(*, email: str, password: str, name: str | None = None) -> tuple[User, Project]:
    """Register a user and give them their personal organization and its default project, selected."""
    user = user_register(email=email, password=password, name=name)
    project = project_create(user=user, name=DEFAULT_PROJECT_NAME, description="Created with your account.")
    project_select(user=user, project=project)
    return user, project


@transaction.atomic
def account_signup_invited(*, invitation, email: str, password: str, name: str | None = None, ip=None) -> User:
    """Register through an invitation's link: the account (with its own organization), then the
    organization it was invited to, whose first project is selected."""
    user, _ = account_signup(email=email, password=password, name=name)
    invitation_accept(invitation=invitation, user=user, ip=ip)
    first = invitation.organization.projects.order_by("created_at").first()
    if first is not None:
        project_select(user=user, project=first)
    return user


@transaction.atomic
def org_create_with_project(
    *, user: User, name: str, project_name: str = DEFAULT_PROJECT_NAME, actor: Actor | None = None
) -> Project:
    """A new organization with the user as owner (`apps.orgs.services.org_create`, as `POST /api/orgs`),
    and its first project, selected."""
    organization = org_create(user=user, name=name, actor=actor)
    project = project_create(user=user, name=project_name, organization=organization, actor=actor)
    project_select(user=user, project=project)
    return project


@transaction.atomic
def project_create(
    *,
    user: User,
    name: str,
    description: str | None = None,
    organization: Organization | None = None,
    actor: Actor | None = None,
    retention_days: int | None = None,
) -> Project:
    """A project in `organization`, or else in the user's personal organization (made if need be)."""
    organization = organization or personal_org(user=user)
    project = Project.objects.create(
        organization=organization, user=user, name=name, description=description, retention_days=retention_days
    )
    audit_record(actor=actor, organization_id=organization.pk, action="project.created", target=project)
    return project


def project_update(*, project: Project, data: dict, actor: Actor | None = None) -> Project:
    changes = {}
    for field in ("name", "description", "retention_days"):
        if field in data and data[field] != getattr(project, field):
            changes[field] = [getattr(project, field), data[field]]
            setattr(project, field, data[field])
    project.save(update_fields=["name", "description", "retention_days", "updated_at"])
    if changes:
        action = "project.renamed" if "name" in changes else "project.updated"  # retention_days included
        audit_record(
            actor=actor, organization_id=project.organization_id, action=action, target=project, changes=changes
        )
    return project


@transaction.atomic
def project_delete(*, project: Project, actor: Actor | None = None) -> None:
    audit_record(actor=actor, organization_id=project.organization_id, action="project.deleted", target=project)
    project.delete()
    User.objects.filter(selected_project_id=project.pk).update(selected_project_id=None)


def project_select(*, user: User, project: Project) -> None:
    if user.selected_project_id != project.pk:
        user.selected_project_id = project.pk
        user.save(update_fields=["selected_project_id"])


def api_key_create(*, project: Project, name: str | None = None, actor: Actor | None = None) -> tuple[ApiKey, str]:
    """A new key and its raw value, which is never stored and so can be shown only now."""
    raw = ApiKey.generate()
    key = ApiKey.objects.create(
        project=project, name=name or None, key_hash=ApiKey.hash(raw), key_prefix=raw[:PREFIX_LENGTH]
    )
    audit_record(
        actor=actor, organization_id=project.organization_id, action="api_key.created", target=key,
        changes={"project": str(project.pk), "prefix": key.key_prefix},
    )  # fmt: skip
    return key, raw


def api_key_revoke(*, api_key: ApiKey, actor: Actor | None = None) -> ApiKey:
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor, organization_id=api_key.project.organization_id, action="api_key.revoked", target=api_key,
            changes={"project": str(api_key.project_id), "prefix": api_key.key_prefix},
        )  # fmt: skip
    return api_key


def api_key_touch(*, api_key: ApiKey) -> None:
    """Record use at most once per API_KEY_TOUCH_INTERVAL, so ingest doesn't write on every request."""
    now = timezone.now()
    if api_key.needs_touch(now):
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
