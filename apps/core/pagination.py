"""Page-numbered lists: `{"count", "next", "previous", "results"}`, by `page` and `page_size`."""

import re

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination

_WHOLE_NUMBER = re.compile(r"[0-9]+")


class PageSizePagination(PageNumberPagination):
    """DRF's, refusing what the schema refuses: `page` and `page_size` are whole numbers from 1 (DRF
    would read `page_size=abc` as the default and `page=last` as the last page). A `page_size` over
    the maximum gives the maximum; a page past the end is a 404."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    last_page_strings = ()

    def get_page_size(self, request) -> int:
        size = _whole_number(request, self.page_size_query_param)
        return self.page_size if size is None else min(size, self.max_page_size)

    def get_page_number(self, request, paginator) -> int:
        return _whole_number(request, self.page_query_param) or 1

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
        parameters[-1]["description"] = (
            f"Default {self.page_size}; over {self.max_page_size} gives {self.max_page_size}."
        )
        return parameters


def _whole_number(request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if not _WHOLE_NUMBER.fullmatch(raw) or int(raw) < 1:
        raise ValidationError({name: ["A whole number, 1 or more."]})
    return int(raw)


def paginates(view):
    """For a function view that answers with `paginated()`: drf-spectacular reads `pagination_class`
    to document the page object and its `page` and `page_size` parameters (as for generic views)."""
    view.cls.pagination_class = PageSizePagination
    return view


def paginated(request, queryset, serializer_class):
    """A page of `queryset` as `{"count", "next", "previous", "results"}`."""
    paginator = PageSizePagination()
    page = paginator.paginate_queryset(queryset, request)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)
