"""Helpers for the API views of every app."""

from django.http import QueryDict


def validated(serializer_class, data, *, omit_none: bool = False, **kwargs) -> dict:
    """What `serializer_class` makes of `data`, or a ValidationError, which the API answers as a 400
    in the one error shape (apps.core.errors). `kwargs` go to the serializer (`partial`, `context`).

    A QueryDict (a query string or a form body) is read as a plain dict first, so a field left out
    is left out, as in JSON: DRF would read a missing boolean in one as False. `omit_none` drops
    the fields that came out None, for filters passed on as keyword arguments.
    """
    if isinstance(data, QueryDict):
        data = data.dict()
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    if omit_none:
        return {key: value for key, value in serializer.validated_data.items() if value is not None}
    return serializer.validated_data
