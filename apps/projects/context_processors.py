from apps.projects.selectors import projects_for_user


def projects(request) -> dict:
    """The sidebar's project switcher: the user's projects and the one selected."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    current = getattr(request, "current_project", None)
    return {
        "user_projects": projects_for_user(user=user).only("id", "name"),
        "current_project": current if current else None,
    }
