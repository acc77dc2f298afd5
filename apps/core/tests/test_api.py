"""validated(): the one way an API view checks its input."""

import pytest
from django.http import QueryDict
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from apps.core.api import validated


class Filter(serializers.Serializer):
    size = serializers.IntegerField(min_value=1)
    open = serializers.BooleanField(required=False)
    name = serializers.CharField(required=False, allow_null=True, default=None)


def test_it_returns_the_validated_data():
    assert validated(Filter, {"size": "3", "open": True}) == {"size": 3, "open": True, "name": None}


def test_it_raises_what_the_api_answers_as_a_400_naming_the_field():
    with pytest.raises(ValidationError) as caught:
        validated(Filter, {"size": 0})
    assert list(caught.value.detail) == ["size"]


def test_a_boolean_left_out_of_a_query_string_stays_out():
    """DRF reads a missing boolean in a QueryDict as False; a query string means what JSON means."""
    assert "open" not in validated(Filter, QueryDict("size=2"))
    assert validated(Filter, QueryDict("size=2&open=true"))["open"] is True


def test_it_passes_options_to_the_serializer():
    assert validated(Filter, {"open": False}, partial=True) == {"open": False}


def test_omit_none_drops_what_came_out_none():
    assert validated(Filter, {"size": 1}, omit_none=True) == {"size": 1}


@pytest.mark.django_db
def test_an_api_answers_its_failure_in_the_one_error_shape(api):
    response = api.post("/api/projects", {"name": ""}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"]["name"] and response.json()["detail"]
