from apps.projects.selectors import switcher_for_user


def projects(request) -> dict:
    """The sidebar's switcher (its organizations, their projects, and those with none yet) and the
    project selected."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    current = getattr(request, "current_project", None)

    def switcher() -> dict:  # read (one query) only by a template that shows the switcher
        orgs = switcher_for_user(user=user)
        return {"with_projects": [o for o in orgs if o.projects], "empty": [o for o in orgs if not o.projects]}

    return {"project_switcher": switcher, "current_project": current if current else None}
