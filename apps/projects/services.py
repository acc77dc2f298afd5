from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.services import user_register
from apps.projects.models import PREFIX_LENGTH, ApiKey, Project

DEFAULT_PROJECT_NAME = "Default project"


@transaction.atomic
def account_signup(*, email: str, password: str, name: str | None = None) -> tuple[User, Project]:
    """Register a user and give them their default project, selected."""
    user = user_register(email=email, password=password, name=name)
    project = project_create(user=user, name=DEFAULT_PROJECT_NAME, description="Created with your account.")
    project_select(user=user, project=project)
    return user, project


def project_create(
    *, user: User, name: str, description: str | None = None, retention_days: int | None = None
) -> Project:
    return Project.objects.create(user=user, name=name, description=description, retention_days=retention_days)


def project_update(*, project: Project, data: dict) -> Project:
    for field in ("name", "description", "retention_days"):
        if field in data:
            setattr(project, field, data[field])
    project.save(update_fields=["name", "description", "retention_days", "updated_at"])
    return project


@transaction.atomic
def project_delete(*, project: Project) -> None:
    user = project.user
    project.delete()
    if user.selected_project_id == project.pk:
        user.selected_project_id = None
        user.save(update_fields=["selected_project_id"])


def project_select(*, user: User, project: Project) -> None:
    if user.selected_project_id != project.pk:
        user.selected_project_id = project.pk
        user.save(update_fields=["selected_project_id"])


def api_key_create(*, project: Project, name: str | None = None) -> tuple[ApiKey, str]:
    """A new key and its raw value, which is never stored and so can be shown only now."""
    raw = ApiKey.generate()
    key = ApiKey.objects.create(
        project=project, name=name or None, key_hash=ApiKey.hash(raw), key_prefix=raw[:PREFIX_LENGTH]
    )
    return key, raw


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
    return api_key


def api_key_touch(*, api_key: ApiKey) -> None:
    """Record use at most once per API_KEY_TOUCH_INTERVAL, so ingest doesn't write on every request."""
    now = timezone.now()
    if api_key.needs_touch(now):
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
