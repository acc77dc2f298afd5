"""What `agentscope test` reads with an API key: the key's project's runnable tests, and the
verdicts on the runs it recorded."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers

from apps.core.api import validated
from apps.core.pagination import paginated, paginates
from apps.ingest.api import errors, ingest_api, project
from apps.runs.selectors import run_get_for_project
from apps.testing.models import Test
from apps.testing.selectors import test_runs_for_run, tests_runnable_for_project
from apps.testing.serializers import TestRunOutput


class IngestTestQuery(serializers.Serializer):
    name = serializers.CharField(required=False, max_length=255, help_text="Only the test of this exact name.")


class IngestTestOutput(serializers.ModelSerializer):
    project_id = serializers.UUIDField(read_only=True)
    project_name = serializers.CharField(source="project.name", read_only=True)
    agent_name = serializers.SerializerMethodField()
    target = serializers.JSONField(read_only=True)
    input = serializers.JSONField(read_only=True, help_text="What the agent is run on.")

    class Meta:
        model = Test
        fields = [
            "id",
            "name",
            "description",
            "test_type",
            "project_id",
            "project_name",
            "agent_name",
            "target",
            "input",
        ]

    def get_agent_name(self, test: Test) -> str | None:
        return test.target.get("agent_name")


class IngestTestRunQuery(serializers.Serializer):
    run_id = serializers.UUIDField(help_text="A run of the key's project.")
    test_id = serializers.UUIDField(required=False, help_text="Only this test's verdicts.")


@extend_schema(
    tags=["ingest"],
    parameters=[IngestTestQuery],
    responses={200: IngestTestOutput(many=True), **errors(400)},
    description="The enabled tests of the key's project that carry an `input`, by name (paginated).",
)
@paginates
@ingest_api(["GET"])
def ingest_tests(request):
    query = validated(IngestTestQuery, request.query_params)
    tests = tests_runnable_for_project(project=project(request), name=query.get("name")).select_related("project")
    return paginated(request, tests, IngestTestOutput)


@extend_schema(
    tags=["ingest"],
    parameters=[IngestTestRunQuery],
    responses={200: TestRunOutput(many=True), **errors(400, 404)},
    description="The verdicts on one run of the key's project, newest first (paginated).",
)
@paginates
@ingest_api(["GET"])
def ingest_test_runs(request):
    query = validated(IngestTestRunQuery, request.query_params)
    run = run_get_for_project(project=project(request), run_id=query["run_id"])
    test_runs = test_runs_for_run(run=run)
    if "test_id" in query:
        test_runs = test_runs.filter(test_id=query["test_id"])
    return paginated(request, test_runs, TestRunOutput)
