"""The API's error shape: every value of `errors` is a list of strings, nested fields by dotted names."""

from apps.core.errors import _as_field_errors


def test_a_nested_serializers_errors_get_dotted_names():
    assert _as_field_errors({"usage": [{"reasoning_tokens": ["Too small."]}]}) == {
        "usage.reasoning_tokens": ["Too small."]
    }
    assert _as_field_errors({"metadata": {"model": ["Not a string."]}}) == {"metadata.model": ["Not a string."]}


def test_many_items_keep_their_index_and_valid_ones_say_nothing():
    errors = _as_field_errors({"events": [{}, {"name": ["Required."]}], "name": ["Too long.", "Blank."]})
    assert errors == {"events.1.name": ["Required."], "name": ["Too long.", "Blank."]}


def test_errors_without_a_field_are_non_field_errors():
    assert _as_field_errors(["Nope."]) == {"non_field_errors": ["Nope."]}
    assert _as_field_errors("Nope.") == {"non_field_errors": ["Nope."]}
