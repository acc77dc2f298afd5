"""The one function every page and API checks a role through."""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from apps.orgs.models import Membership
from apps.orgs.roles import PERMISSIONS, role_allows


def role_of(*, user, organization_id) -> str | None:
    """The user's role in the organization, or None; remembered on the user object for the request."""
    if user is None or not user.is_authenticated or organization_id is None:
        return None
    roles = user.__dict__.setdefault("_org_roles", {})
    if organization_id not in roles:
        roles[organization_id] = (
            Membership.objects.filter(organization_id=organization_id, user=user).values_list("role", flat=True).first()
        )
    return roles[organization_id]


def role_remember(*, user, organization_id, role: str | None) -> None:
    """Keep a role read with the object it guards (one query, not two)."""
    if role is not None:
        user.__dict__.setdefault("_org_roles", {})[organization_id] = role


def authorize(*, user, organization_id, action: str) -> str:
    """The user's role if it allows `action`. Outside the organization: 404, as if nothing were there.
    Inside with too low a role: 403 naming the role needed."""
    role = role_of(user=user, organization_id=organization_id)
    if role is None:
        raise Http404("No such organization.")
    if not role_allows(role, action):
        needed = PERMISSIONS[action]
        raise PermissionDenied(f"This needs the {needed.label.lower()} role or higher; you are a {role}.")
    return role


def can(*, user, organization_id, action: str) -> bool:
    """For the UI: whether to show what `action` needs (the server checks again through `authorize`)."""
    return role_allows(role_of(user=user, organization_id=organization_id), action)
