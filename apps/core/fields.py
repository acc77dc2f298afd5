"""Serializer fields that take only the JSON type the schema declares.

DRF's fields coerce: a CharField takes 0 as "0", an IntegerField "7" and 7.0, a BooleanField 1, "yes"
and "on". That suits form data; a JSON API whose schema says string, integer or boolean must refuse the
rest, or clients learn to send what the schema forbids. Query strings are all text: their filters
keep DRF's own integer and boolean fields.
"""

import uuid

from rest_framework import serializers


class _StrictType:
    json_types: tuple[type, ...]

    def to_internal_value(self, data):
        # bool is an int in Python, never in JSON.
        if not isinstance(data, self.json_types) or (isinstance(data, bool) and bool not in self.json_types):
            self.fail("invalid")
        return super().to_internal_value(data)


# `validated_as`: the DRF field a strict one validates as once its JSON type is right. The ingest
# hot path (apps.ingest.validation) checks those without DRF's calls, and only ever values of that type.


class StrictCharField(_StrictType, serializers.CharField):
    json_types = (str,)
    validated_as = serializers.CharField

    def to_internal_value(self, data):
        # DRF trims before it counts: 300 characters ending in spaces would pass a maxLength of 255.
        if isinstance(data, str) and self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length, length=len(data))
        return super().to_internal_value(data)


class StrictIntegerField(_StrictType, serializers.IntegerField):
    json_types = (int,)
    validated_as = serializers.IntegerField


class StrictBooleanField(_StrictType, serializers.BooleanField):
    json_types = (bool,)


class StrictUUIDField(_StrictType, serializers.UUIDField):
    """A UUID given as a string: DRF's own field would also take an integer, which no client means."""

    json_types = (str, uuid.UUID)
    validated_as = serializers.UUIDField
