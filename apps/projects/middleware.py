import uuid

from django.utils.functional import SimpleLazyObject

from apps.projects import selectors, services


def _asked_project_id(request):
    raw = request.GET.get("project")
    try:
        return uuid.UUID(raw) if raw else None
    except ValueError:
        return None


class CurrentProjectMiddleware:
    """`request.current_project` for signed-in pages: `?project=<id>` selects (and remembers) one."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(("/api/", "/v1/", "/static/", "/admin/")):
            return self.get_response(request)
        asked = _asked_project_id(request)

        def resolve():
            if not request.user.is_authenticated:
                return None
            project = selectors.project_for_request(user=request.user, project_id=asked)
            if project is not None and asked == project.pk:
                services.project_select(user=request.user, project=project)
            return project

        request.current_project = SimpleLazyObject(resolve) if asked is None else resolve()
        return self.get_response(request)
