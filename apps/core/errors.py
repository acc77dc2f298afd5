"""One error shape for every API answer: {"detail": "...", "errors": {"field": ["..."]}}."""

from django.http import Http404
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class ApplicationError(Exception):
    """A rule of the domain refused the request; maps to a 400 (or `status`) with our error shape."""

    def __init__(self, detail: str, *, errors: dict | None = None, status: int = 400):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or {}
        self.status = status


class ErrorOutput(serializers.Serializer):
    """The shape of every API error (the OpenAPI schema's `Error`)."""

    detail = serializers.CharField()
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()), help_text="Messages by field; may be empty."
    )

    class Meta:
        ref_name = "Error"


def error_response(detail: str, *, errors: dict | None = None, status: int = 400, headers=None):
    return Response({"detail": detail, "errors": errors or {}}, status=status, headers=headers)


def _as_field_errors(data) -> dict:
    """{field: [message, ...]}: errors of nested fields (a dict of a serializer, a list of many) are
    flattened to dotted names, `usage.reasoning_tokens` or `events.3.name`, so every value is a list of
    strings, as the schema's Error says."""
    if not isinstance(data, dict):
        data = {"non_field_errors": data}
    errors: dict[str, list[str]] = {}
    for key, value in data.items():
        _flatten(str(key), value, errors)
    return errors


def _flatten(name: str, value, errors: dict[str, list[str]]) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _flatten(f"{name}.{key}", inner, errors)
    elif isinstance(value, list):
        nested = [item for item in value if isinstance(item, dict | list)]
        if len(nested) == 1 and len(value) == 1:  # one nested error, as a field wraps its serializer's
            _flatten(name, value[0], errors)
            return
        for index, item in enumerate(value):
            if isinstance(item, dict | list):
                if item:
                    _flatten(f"{name}.{index}", item, errors)
            else:
                errors.setdefault(name, []).append(str(item))
    else:
        errors.setdefault(name, []).append(str(value))


def exception_handler(exc, context):
    if isinstance(exc, ApplicationError):
        return error_response(exc.detail, errors=_as_field_errors(exc.errors), status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = _as_field_errors(response.data)
        first = next(iter(errors.items()), None)
        detail = f"{first[0]}: {first[1][0]}" if first else "Invalid input."
        response.data = {"detail": detail, "errors": errors}
    else:
        detail = response.data.get("detail", "Error") if isinstance(response.data, dict) else "Error"
        response.data = {"detail": str(detail), "errors": {}}
    if response.status_code == status.HTTP_401_UNAUTHORIZED and "WWW-Authenticate" not in response:
        response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response
