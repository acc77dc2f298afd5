"""htmx responses: one view per URL renders its page, or only a named partial of the page's template
(`{% partialdef %}`) when htmx asks for that part."""

from collections.abc import Mapping

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers


def htmx_wants_part(request: HttpRequest) -> bool:
    """Whether htmx asks for part of a page. A history restore wants the whole page, as a reload does."""
    return bool(request.htmx) and not request.htmx.history_restore_request


def htmx_target(request: HttpRequest) -> str | None:
    """The id of the element htmx asks for, or None when the whole page is wanted."""
    return request.htmx.target if htmx_wants_part(request) else None


def render_htmx(
    request: HttpRequest,
    template: str,
    context: dict | None = None,
    *,
    partial: str | Mapping[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    """`template`, or only its `partial` when htmx asks for part of the page. `partial` names one
    partial, or maps the ids of the elements htmx may target to theirs (others get the page).

    The answer varies on HX-Request and HX-Target, which decide what it holds, so no cache hands a
    fragment to a request for the page (or the other way round).
    """
    if isinstance(partial, Mapping):
        partial = partial.get(htmx_target(request) or "")
    elif not htmx_wants_part(request):
        partial = None
    response = render(request, f"{template}#{partial}" if partial else template, context, status=status)
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response
