from django.db.models import F

from apps.orgs.roles import role_allows
from apps.orgs.selectors import orgs_for_user
from apps.projects.selectors import projects_for_user


def projects(request) -> dict:
    """The sidebar's project switcher: the user's projects and the one selected, and the organizations
    that have no project yet (they can't be picked in the list, so they are shown beside it)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    current = getattr(request, "current_project", None)

    def empty_orgs() -> list:  # called (once) only by a template that shows the switcher
        orgs = orgs_for_user(user=user).filter(projects__isnull=True).annotate(role=F("memberships__role"))
        orgs = list(orgs.order_by("name", "id"))
        for organization in orgs:
            organization.may_create_project = role_allows(organization.role, "project.create")
        return orgs

    return {
        # Grouped by organization in the switcher: picking a project picks its organization too.
        "user_projects": projects_for_user(user=user)
        .select_related("organization")
        .only("id", "name", "organization__id", "organization__name")
        .order_by("organization__name", "organization_id", "name"),
        "current_project": current if current else None,
        "empty_orgs": empty_orgs,
    }
