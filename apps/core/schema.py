"""The OpenAPI schema (drf-spectacular): every operation documents the errors it can answer."""

from drf_spectacular import openapi
from drf_spectacular.plumbing import force_instance
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import SAFE_METHODS, AllowAny

from apps.core.errors import ErrorOutput

# gunicorn's own answer (its HTML) to a request line over its limit, before the app sees the request.
URI_TOO_LONG = {
    "description": "The query is longer than the server takes (gunicorn: a request line of 4094 bytes).",
    "content": {"text/html": {"schema": {"type": "string"}}},
}
RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}, "required": True, "description": "Seconds to wait."}}


def drop_trailing_slash_twins(endpoints):
    """Every route is served with and without a trailing slash; document each once (without)."""
    paths = {path for path, *_ in endpoints}
    return [e for e in endpoints if not (e[0].endswith("/") and e[0].rstrip("/") in paths)]


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's, adding to each operation the errors it may answer, in our error shape:
    what an operation declares itself stays as declared."""

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        error = self.resolve_serializer(ErrorOutput, "response").ref
        for code, description in self._errors(operation).items():
            response = operation["responses"].setdefault(code, {"description": description})
            response.setdefault("content", {"application/json": {"schema": error}})
            if code in ("429", "503"):
                response.setdefault("headers", {}).update(RETRY_AFTER)
        if any(parameter["in"] == "query" for parameter in operation.get("parameters", [])):
            operation["responses"]["414"] = URI_TOO_LONG
        return operation

    def _errors(self, operation: dict) -> dict[str, str]:
        where = {parameter["in"] for parameter in operation.get("parameters", [])}
        named = {parameter["name"] for parameter in operation.get("parameters", [])} | self._body_fields()
        body = "requestBody" in operation
        authentication = self.view.get_authenticators()
        errors = {}
        if body or "query" in where:
            errors["400"] = 'Invalid input: `{"detail": ..., "errors": {field: [...]}}` names each field at fault.'
        if not all(isinstance(permission, AllowAny) for permission in self.view.get_permissions()):
            errors["401"] = "No credentials, or credentials that are invalid, expired or revoked."
        by_person = any(isinstance(a, SessionAuthentication) for a in authentication)
        if by_person and ("/api/orgs" in self.path or self.method not in SAFE_METHODS):
            # apps.orgs.permissions.authorize: inside the organization, a role too low is a 403.
            errors["403"] = "Your role in the organization is too low for this (the detail names the role needed)" + (
                ", or a browser session without its CSRF token." if self.method not in SAFE_METHODS else "."
            )
        if "path" in where or "page" in named or any(name.endswith("_id") for name in named):
            errors["404"] = "Not found among what these credentials may see (another tenant's is a 404 too)."
        if body:
            errors["415"] = "The body is not JSON (`Content-Type: application/json`)."
        # An API key's operations are throttled too: wrong keys, per address (apps.projects.throttling).
        if any("ApiKey" in scheme for scheme in operation.get("security", [])):
            errors["429"] = "Too many requests, or wrong keys from this address: retry after Retry-After."
        elif self.view.get_throttles():
            errors["429"] = "Too many requests: retry after Retry-After."
        errors["503"] = "The database is unavailable for a moment: retry after Retry-After."
        return errors

    def _body_fields(self) -> set[str]:
        if self.method not in ("POST", "PUT", "PATCH"):
            return set()
        return set(getattr(force_instance(self.get_request_serializer()), "fields", {}))
