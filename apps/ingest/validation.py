"""Checking ingest bodies with DRF's own fields, without DRF's cost per body.

`serializer_class(data=body).is_valid()` deep-copies every field of the serializer for each body,
then walks all of them, raising `SkipField` for each one the body leaves out. Ingest checks
thousands of small bodies a second against a handful of serializers, so each serializer is built
once, and a body is checked field by field for the keys it holds only. The values that need no work
(a string already trimmed and short enough, an int in range, a known choice, any JSON where any JSON
goes) are taken as DRF would take them, without its calls; any other value goes to the field's own
`run_validation`. Anything that path can't settle exactly (not a dict, a required field missing, any
error) goes to `serializer.run_validation` itself, so every error keeps DRF's messages and shape.
Bodies are parsed JSON: strings, numbers, booleans, null, lists and dicts with string keys.
"""

import re
import uuid
from collections.abc import Callable
from functools import cache, lru_cache

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.fields import (
    ProhibitNullCharactersValidator,
    ProhibitSurrogateCharactersValidator,
    SkipField,
    empty,
)

SLOW = object()  # what a quick check answers for a value it leaves to the field
_UNSAFE_TEXT = re.compile("[\x00\ud800-\udfff]")


@cache
def input_checker(serializer_class: type[serializers.Serializer]) -> Callable[[object], dict]:
    """A function giving what `serializer_class(data=body).is_valid(raise_exception=True)` would:
    the validated data, or the same ValidationError. One per class, shared by every request (DRF
    fields keep no state while they validate; batch events have always shared one per type)."""
    serializer = serializer_class()
    fields = {name: field for name, field in serializer.fields.items() if not field.read_only}
    if not _checks_fields_only(serializer, fields):
        return serializer.run_validation
    checks = {name: quick_check(field) for name, field in fields.items()}
    required = [name for name, field in fields.items() if field.required]
    defaults = [(name, field) for name, field in fields.items() if field.default is not empty]

    def check(body) -> dict:
        if type(body) is dict and all(name in body for name in required):
            checked = _fields_validate(fields, checks, defaults, body)
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
        and all(field.source == name for name, field in fields.items())
    )


def _fields_validate(fields: dict, checks: dict, defaults: list, body: dict) -> dict | None:
    checked = {}
    try:
        for name, value in body.items():
            check = checks.get(name)
            if check is not None:
                result = check(value)
                checked[name] = fields[name].run_validation(value) if result is SLOW else result
    except (ValidationError, DjangoValidationError, SkipField):
        return None
    for name, field in defaults:
        if name not in body:
            checked[name] = field.get_default()
    return checked


def quick_check(field: serializers.Field) -> Callable:
    """A check answering what `field.run_validation(value)` answers for the values that need no
    work, and SLOW for the others. Only for DRF's own field classes as they come (a subclass may
    say it validates a string as one of them, `validated_as`), with no validators of their own."""
    make = _QUICK.get(getattr(field, "validated_as", type(field)))
    check = make(field) if make is not None else None
    if check is None:
        return lambda value: SLOW
    if field.allow_null:  # DRF answers None for None, before the field's own checks
        return lambda value: None if value is None else check(value)
    return check  # None is no value a quick check takes: DRF refuses it


def _only(field: serializers.Field, *kinds: type) -> bool:
    """Whether the field's validators are only those its own settings add (of these kinds)."""
    return all(type(validator) in kinds for validator in field.validators)


def _quick_json(field: serializers.JSONField) -> Callable | None:
    # DRF dumps the value to check that it is JSON: a parsed body's values always are.
    if field.binary or field.encoder is not None or not _only(field):
        return None
    return lambda value: SLOW if value is None else value


def _quick_dict(field: serializers.DictField) -> Callable | None:
    if type(field.child) is not type(serializers.DictField().child) or not field.allow_empty or not _only(field):
        return None  # a child of its own validates each value
    return lambda value: dict(value) if type(value) is dict else SLOW


def _quick_text(field: serializers.CharField) -> Callable | None:
    kinds = (MaxLengthValidator, ProhibitNullCharactersValidator, ProhibitSurrogateCharactersValidator)
    if not field.trim_whitespace or field.min_length is not None or not _only(field, *kinds):
        return None
    longest = field.max_length if field.max_length is not None else float("inf")

    def check(value):
        if type(value) is str and value and len(value) <= longest and value.strip() == value:
            return SLOW if _UNSAFE_TEXT.search(value) else value
        return SLOW

    return check


def _quick_choice(field: serializers.ChoiceField) -> Callable | None:
    if not _only(field):
        return None
    choices = field.choice_strings_to_values
    return lambda value: choices[value] if type(value) is str and value in choices else SLOW


def _quick_integer(field: serializers.IntegerField) -> Callable | None:
    if field.min_value is None or field.max_value is None or not _only(field, MinValueValidator, MaxValueValidator):
        return None
    low, high = field.min_value, field.max_value
    return lambda value: value if type(value) is int and low <= value <= high else SLOW


def _quick_uuid(field: serializers.UUIDField) -> Callable | None:
    if not _only(field):
        return None

    def check(value):
        if type(value) is not str:
            return SLOW
        try:
            return _uuid(value)
        except ValueError:
            return SLOW

    return check


@lru_cache(maxsize=4096)
def _uuid(text: str) -> uuid.UUID:
    """What UUIDField.to_internal_value does with a string; remembered, as a batch names its run in
    every event (UUIDs can't change, so one object serves them all)."""
    return uuid.UUID(hex=text)


_QUICK = {
    serializers.JSONField: _quick_json,
    serializers.DictField: _quick_dict,
    serializers.CharField: _quick_text,
    serializers.ChoiceField: _quick_choice,
    serializers.IntegerField: _quick_integer,
    serializers.UUIDField: _quick_uuid,
}
