"""Who did a sensitive action, from where: built from the request by views, recorded by services."""

from dataclasses import dataclass

from apps.core.throttling import client_ip
from apps.orgs.models import AuditEntry


@dataclass(frozen=True)
class Actor:
    user: object | None = None
    api_key_prefix: str = ""
    ip: str | None = None

    @property
    def label(self) -> str:
        if self.api_key_prefix:
            return f"API key {self.api_key_prefix}…"
        return getattr(self.user, "email", "") or "system"


def actor_from_request(request) -> Actor:
    auth = getattr(request, "auth", None)
    prefix = getattr(auth, "key_prefix", "") or ""
    user = getattr(request, "user", None)
    user = user if user is not None and user.is_authenticated and not prefix else None
    return Actor(user=user, api_key_prefix=prefix, ip=client_ip(request) or None)


def audit_record(*, actor: Actor | None, organization_id, action: str, target=None, changes: dict | None = None):
    """Append one entry. `target` is any model instance (its class, id and str are kept, not a key to it,
    so the entry outlives it). Without an actor (a script, a migration) nothing is recorded."""
    if actor is None:
        return None
    return AuditEntry.objects.create(
        organization_id=organization_id,
        actor=actor.user,
        actor_label=actor.label,
        api_key_prefix=actor.api_key_prefix,
        ip=actor.ip,
        action=action,
        target_type=target._meta.model_name if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_label=str(target)[:255] if target is not None else "",
        changes=changes or {},
    )
