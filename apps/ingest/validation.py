"""Checking ingest bodies with DRF's own fields, without DRF's cost per body.

`serializer_class(data=body).is_valid()` deep-copies every field of the serializer for each body,
then walks all of them, raising `SkipField` for each one the body leaves out. Ingest checks
thousands of small bodies a second against a handful of serializers, so each serializer is built
once, and a body is checked field by field for the keys it holds only. Anything that path can't
settle exactly (not a dict, a required field missing, any error) goes to `serializer.run_validation`
itself, so every error keeps DRF's messages and shape.
"""

from collections.abc import Callable
from functools import cache

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.fields import SkipField, empty


@cache
def input_checker(serializer_class: type[serializers.Serializer]) -> Callable[[object], dict]:
    """A function giving what `serializer_class(data=body).is_valid(raise_exception=True)` would:
    the validated data, or the same ValidationError. One per class, shared by every request (DRF
    fields keep no state while they validate; batch events have always shared one per type)."""
    serializer = serializer_class()
    fields = {field.field_name: field for field in serializer._writable_fields}
    if not _checks_fields_only(serializer, fields):
        return serializer.run_validation
    required = [name for name, field in fields.items() if field.required]
    defaults = [(name, field) for name, field in fields.items() if field.default is not empty]

    def check(body) -> dict:
        if type(body) is dict and all(name in body for name in required):
            checked = _fields_validate(fields, defaults, body)
            if checked is not None:
                return checked
        return serializer.run_validation(body)

    return check


def _checks_fields_only(serializer: serializers.Serializer, fields: dict) -> bool:
    """Whether the serializer adds nothing to its fields' own checks: no `validate_<field>` or
    `validate` method, no validators of its own, every field stored under its own name."""
    cls = type(serializer)
    return (
        cls.validate is serializers.Serializer.validate
        and not serializer.validators
        and not any(hasattr(serializer, f"validate_{name}") for name in fields)
        and all(field.source == name and not field.read_only for name, field in fields.items())
    )


def _fields_validate(fields: dict, defaults: list, body: dict) -> dict | None:
    checked = {}
    try:
        for name, value in body.items():
            field = fields.get(name)
            if field is not None:
                checked[name] = field.run_validation(value)
    except (ValidationError, DjangoValidationError, SkipField):
        return None
    for name, field in defaults:
        if name not in body:
            checked[name] = field.get_default()
    return checked
