"""Rules about one tool: its parameter table and the diff between two of its definitions."""

from apps.mcp.models import McpTool, definition_diff, schema_type


def test_the_parameter_table_reads_the_schema():
    tool = McpTool(
        tool_name="book",
        input_schema={
            "type": "object",
            "properties": {
                "when": {"type": ["string", "null"], "description": "ISO date"},
                "seats": {"type": "array", "items": {"type": "integer"}},
                "city": {"anyOf": [{"type": "string"}, {"$ref": "#/$defs/Place"}]},
                "class": {"enum": ["economy", "business", 1]},
                "note": {},
            },
            "required": ["when", "class"],
        },
    )
    assert [(p["name"], p["type"], p["required"]) for p in tool.parameters()] == [
        ("class", "enum: economy, business, 1", True),
        ("when", "string | null", True),
        ("city", "string | Place", False),
        ("note", "any", False),
        ("seats", "array of integer", False),
    ]
    assert tool.parameters()[1]["description"] == "ISO date"


def test_a_schema_that_is_not_one_has_no_parameters():
    for schema in (None, "text", {"properties": "x"}):
        assert McpTool(tool_name="t", input_schema=schema).parameters() == []
    odd = McpTool(tool_name="t", input_schema={"properties": {"a": 1}, "required": "a"})
    assert odd.parameters() == [{"name": "a", "type": "any", "required": False, "description": "", "default": None}]


def test_the_diff_names_each_changed_field():
    before = {"description": "Add.", "input_schema": {"type": "object"}, "title": None}
    after = {"description": "Add two numbers.", "input_schema": {"type": "object"}, "title": "Add"}
    changes = definition_diff(before, after)
    assert [c["field"] for c in changes] == ["title", "description"]
    assert changes[1]["diff"].splitlines()[2:] == ["@@ -1 +1 @@", "-Add.", "+Add two numbers."]
    assert definition_diff(after, after) == []


def test_schema_type_falls_back_to_any():
    assert schema_type({}) == "any"
    assert schema_type({"type": "object"}) == "object"
