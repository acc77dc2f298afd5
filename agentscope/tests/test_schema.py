"""The OpenAPI schema says what the API does, and the API refuses what the schema refuses."""

import uuid

import jsonschema
import pytest
from django.test import Client
from rest_framework.test import APIClient

from apps.breakpoints.models import Breakpoint
from apps.mcp.models import McpTool
from apps.projects.models import Project
from apps.runs.models import Run

pytestmark = pytest.mark.django_db

LISTS = [
    "/api/projects",
    "/api/projects/{project_id}/api-keys",
    "/api/projects/{project_id}/prices",
    "/api/tests",
    "/api/test-runs",
    "/api/breakpoints",
    "/api/mcp/tools",
    "/api/mcp/logs",
    "/api/ingest/tests",
    "/api/ingest/test-runs",
    "/api/tests/{test_id}/runs",
]


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        return Client().get("/api/schema/", HTTP_ACCEPT="application/json").json()


def resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def json_schema(node):
    """OpenAPI 3.0's schema dialect as JSON Schema: `nullable: true` becomes a type that admits null."""
    if isinstance(node, list):
        return [json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: json_schema(value) for key, value in node.items()}
    if node.pop("nullable", False) and "type" in node:
        node["type"] = [node["type"], "null"]
    return node


def operations(schema: dict):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method != "parameters":
                yield path, method, operation


@pytest.mark.parametrize("path", LISTS)
def test_lists_are_documented_as_the_page_they_answer(schema, path):
    operation = schema["paths"][path]["get"]
    page = resolve(schema, operation["responses"]["200"]["content"]["application/json"]["schema"])
    assert page["type"] == "object" and set(page["properties"]) == {"count", "next", "previous", "results"}
    assert page["properties"]["results"]["type"] == "array"
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert parameters["page"]["schema"] == {"type": "integer", "minimum": 1}
    assert parameters["page_size"]["schema"] == {"type": "integer", "minimum": 1}


def test_a_list_answer_validates_against_its_schema(schema, api, project, api_key):
    for path in ("/api/projects", f"/api/projects/{project.pk}/api-keys"):
        documented = schema["paths"][path.replace(str(project.pk), "{project_id}")]["get"]["responses"]["200"]
        document = json_schema({**schema, **documented["content"]["application/json"]["schema"]})
        answer = api.get(path).json()
        assert answer["results"]
        jsonschema.validate(answer, document)


def test_every_operation_documents_its_errors_in_the_error_shape(schema):
    for path, method, operation in operations(schema):
        responses = operation["responses"]
        assert "503" in responses, (method, path)
        assert responses["503"]["headers"]["Retry-After"]["required"] is True
        if operation.get("security") != [{}] and "security" in operation:
            assert "401" in responses, (method, path)
        if "requestBody" in operation or any(p["in"] == "query" for p in operation.get("parameters", [])):
            assert "400" in responses, (method, path)
        if "{" in path:
            assert "404" in responses, (method, path)
        if "429" in responses:
            assert responses["429"]["headers"]["Retry-After"]["required"] is True
        for code in ("400", "401", "404", "503"):
            if code in responses and "application/json" in responses[code].get("content", {}):
                error = resolve(schema, responses[code]["content"]["application/json"]["schema"])
                assert set(error["properties"]) == {"detail", "errors"}, (method, path, code)


@pytest.mark.parametrize(
    "path, method", [("/api/auth/login", "post"), ("/api/auth/register", "post"), ("/api/ingest/run", "post")]
)
def test_throttled_operations_document_429(schema, path, method):
    assert "429" in schema["paths"][path][method]["responses"]


def test_bodies_are_json_only(schema, api):
    for path, method, operation in operations(schema):
        if "requestBody" in operation:
            assert set(operation["requestBody"]["content"]) == {"application/json"}, (method, path)
    response = api.post("/api/projects", {"name": "form-encoded"})  # multipart, as a form would send it
    assert response.status_code == 415
    assert not Project.objects.filter(name="form-encoded").exists()


class TestStrictTypes:
    @pytest.mark.parametrize("name", [0, 1.5, True, ["a"], {"a": 1}])
    def test_a_project_name_is_a_string(self, api, name):
        response = api.post("/api/projects", {"name": name}, format="json")
        assert response.status_code == 400
        assert response.json()["errors"]["name"] == ["Not a valid string."]

    def test_a_key_name_is_a_string(self, api, project):
        response = api.post(f"/api/projects/{project.pk}/api-keys", {"name": 0}, format="json")
        assert response.status_code == 400
        assert project.api_keys.count() == 0

    def test_ingest_names_are_strings(self, ingest):
        assert ingest.post("/api/ingest/run", {"agent_name": 0}, format="json").status_code == 400
        tool = {"tool_name": "t", "server_name": 0}
        assert ingest.post("/api/ingest/mcp/tool", tool, format="json").status_code == 400
        assert not Run.objects.exists() and not McpTool.objects.exists()

    def test_too_long_is_too_long_before_trimming(self, api):
        response = api.post("/api/projects", {"name": "a" + " " * 255}, format="json")
        assert response.status_code == 400
        assert "no more than 255 characters" in response.json()["errors"]["name"][0]

    def test_integers_and_booleans_are_not_strings_or_numbers(self, api, project):
        breakpoint = Breakpoint.objects.create(project=project, condition_type="step_type", condition_value={})
        assert api.post(f"/api/breakpoints/{breakpoint.pk}/toggle", {"enabled": 0}, format="json").status_code == 400
        assert api.post(f"/api/breakpoints/{breakpoint.pk}/toggle", {"enabled": "no"}, format="json").status_code == 400
        run = Run.objects.create(project=project, agent_name="a")
        assert api.post(f"/api/runs/{run.pk}/replay", {"from_step": "0"}, format="json").status_code == 400
        assert api.post(f"/api/runs/{run.pk}/replay", {"from_step": True}, format="json").status_code == 400


class TestQueryValues:
    @pytest.mark.parametrize("query", ["page_size=null", "page_size=", "page_size=0", "page=0", "page=last", "page=x"])
    def test_page_parameters_are_whole_numbers(self, api, project, query):
        response = api.get(f"/api/projects?{query}")
        assert response.status_code == 400
        assert set(response.json()["errors"]) <= {"page", "page_size"}

    def test_a_page_past_the_end_is_a_404(self, api, project):
        assert api.get("/api/projects?page=2").status_code == 404

    def test_a_page_size_over_the_maximum_gives_the_maximum(self, api, project):
        response = api.get("/api/projects?page_size=5000")
        assert response.status_code == 200 and response.json()["count"] == 1

    def test_an_empty_period_is_refused(self, api, project):
        response = api.get(f"/api/projects/{project.pk}/stats?period=")
        assert response.status_code == 400
        assert "period" in response.json()["errors"]

    def test_an_empty_hit_id_is_refused(self, ingest, project):
        run = Run.objects.create(project=project, agent_name="a")
        response = ingest.get(f"/api/ingest/run/{run.pk}/control?hit_id=")
        assert response.status_code == 400
        assert "hit_id" in response.json()["errors"]

    def test_an_empty_filter_is_refused_not_ignored(self, api, ingest):
        assert api.get("/api/breakpoints?project_id=").status_code == 400
        assert ingest.get("/api/ingest/tests?name=").status_code == 400

    def test_a_missing_parameter_still_takes_its_default(self, api, project):
        assert api.get(f"/api/projects/{project.pk}/stats").status_code == 200
        assert APIClient().get(f"/api/projects/{uuid.uuid4()}/stats").status_code == 401


def test_the_schema_generates_without_a_warning(tmp_path):
    """drf-spectacular warns of two components with one name or two operations with one id: the
    schema then describes one of them wrongly (as two `SessionOutput`s once did)."""
    from django.core.management import call_command

    call_command("spectacular", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
