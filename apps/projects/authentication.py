from django.utils.functional import SimpleLazyObject
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from apps.accounts.models import User
from apps.projects.models import ApiKey
from apps.projects.selectors import api_key_by_raw
from apps.projects.services import api_key_touch
from apps.projects.throttling import api_key_failure_count, api_key_failure_known_blocked

HEADER = "HTTP_X_AGENTSCOPE_KEY"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """`X-Agentscope-Key: as_...`: finds the key by its SHA-256, refuses revoked keys and keys of an
    inactive owner, sets the project.

    On success `request.user` is the project's owner (loaded if used: ingest never does) and
    `request.auth` the ApiKey; views read the project from `request.auth.project`.
    """

    def authenticate(self, request):
        raw = self.raw_key(request)
        if not raw:
            return None
        api_key = api_key_by_raw(raw_key=raw.strip())
        if api_key is None or api_key.is_revoked:
            api_key_failure_known_blocked(request)
            api_key_failure_count(request)
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        api_key_touch(api_key=api_key)
        request.project = api_key.project
        owner_id = api_key.project.user_id
        return (SimpleLazyObject(lambda: User.objects.get(pk=owner_id)), api_key)

    def raw_key(self, request) -> str | None:
        return request.META.get(HEADER)

    def authenticate_header(self, request):
        return "X-Agentscope-Key"


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = ApiKeyAuthentication
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "X-Agentscope-Key"}


class HasApiKey:
    """Permission: the request was authenticated by an API key (not a JWT or a session)."""

    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, ApiKey)

    def has_object_permission(self, request, view, obj) -> bool:
        return True
