"""What each role may do: the one table every page and API checks, through `permissions.authorize`."""

from django.db import models


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    MEMBER = "member", "Member"
    VIEWER = "viewer", "Viewer"


# Each role may do what the roles below it may, and more.
RANK = {Role.VIEWER: 0, Role.MEMBER: 1, Role.ADMIN: 2, Role.OWNER: 3}

# action -> the lowest role allowed to do it
PERMISSIONS: dict[str, Role] = {
    "read": Role.VIEWER,
    "test.write": Role.MEMBER,  # create, edit, toggle, delete, evaluate, backfill
    "breakpoint.write": Role.MEMBER,  # create, edit, toggle, delete
    "run.resume": Role.MEMBER,  # continue or abort a paused run
    "run.replay": Role.MEMBER,
    "project.create": Role.ADMIN,
    "project.edit": Role.ADMIN,
    "project.delete": Role.ADMIN,
    "run.delete": Role.ADMIN,
    "api_key.write": Role.ADMIN,  # create and revoke
    "member.invite": Role.ADMIN,  # invite, resend, revoke invitations
    "member.remove": Role.ADMIN,  # members below owner
    "audit.read": Role.ADMIN,
    "member.role": Role.OWNER,
    "org.edit": Role.OWNER,
    "org.delete": Role.OWNER,
}


def role_allows(role: str | None, action: str) -> bool:
    return role is not None and RANK[Role(role)] >= RANK[PERMISSIONS[action]]
