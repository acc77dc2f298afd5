from drf_spectacular.utils import OpenApiParameter
from rest_framework.pagination import PageNumberPagination

# The page parameters of every page-numbered list, for @extend_schema.
PAGE = [OpenApiParameter("page", int), OpenApiParameter("page_size", int, description="Default 50, at most 200.")]


class PageSizePagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


def paginated(request, queryset, serializer_class):
    """A page of `queryset` as `{"count", "next", "previous", "results"}`."""
    paginator = PageSizePagination()
    page = paginator.paginate_queryset(queryset, request)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)
