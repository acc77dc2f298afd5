from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from apps.projects.models import ApiKey, Project


def projects_for_user(*, user) -> QuerySet[Project]:
    return Project.objects.filter(user=user)


def project_get(*, user, project_id) -> Project:
    """The user's project, or 404: another user's project must look like no project at all."""
    return get_object_or_404(projects_for_user(user=user), pk=project_id)


def project_for_request(*, user, project_id=None) -> Project | None:
    """The project a page shows: the one asked for, else the user's remembered one, else the first."""
    projects = projects_for_user(user=user)
    for candidate in (project_id, user.selected_project_id):
        if candidate:
            project = projects.filter(pk=candidate).first()
            if project is not None:
                return project
    return projects.first()


def api_keys_for_project(*, project: Project) -> QuerySet[ApiKey]:
    return project.api_keys.all()


def api_key_get(*, user, project_id, key_id) -> ApiKey:
    return get_object_or_404(ApiKey, pk=key_id, project__pk=project_id, project__user=user)


def api_key_by_raw(*, raw_key: str) -> ApiKey | None:
    # key_hash is unique: no ORDER BY (Meta.ordering) for `.first()` to add on every ingest request.
    return ApiKey.objects.select_related("project__user").filter(key_hash=ApiKey.hash(raw_key)).order_by().first()
