from apps.projects.selectors import projects_for_user


def projects(request) -> dict:
    """The sidebar's project switcher: the user's projects and the one selected."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    current = getattr(request, "current_project", None)
    return {
        # Grouped by organization in the switcher: picking a project picks its organization too.
        "user_projects": projects_for_user(user=user)
        .select_related("organization")
        .only("id", "name", "organization__id", "organization__name")
        .order_by("organization__name", "organization_id", "name"),
        "current_project": current if current else None,
    }
