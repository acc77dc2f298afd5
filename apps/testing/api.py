"""/api/tests and /api/test-runs: JWT or session, scoped to the caller's projects."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.decorators import api_view
from rest_framework.response import Response

from apps.core.errors import ErrorOutput
from apps.core.pagination import paginated, paginates
from apps.projects.selectors import project_get
from apps.testing import selectors, services
from apps.testing.serializers import (
    TestCreateInput,
    TestExecuteInput,
    TestFilter,
    TestInput,
    TestOutput,
    TestRunFilter,
    TestRunHistoryFilter,
    TestRunOutput,
)


def parsed(serializer_class, data) -> dict:
    # Query strings go in as a plain dict: DRF reads a missing boolean in form data as False.
    serializer = serializer_class(data=data.dict() if hasattr(data, "dict") else data)
    serializer.is_valid(raise_exception=True)
    return {key: value for key, value in serializer.validated_data.items() if value is not None}


@extend_schema(methods=["GET"], parameters=[TestFilter], responses={200: TestOutput(many=True)})
@extend_schema(methods=["POST"], request=TestCreateInput, responses={201: TestOutput})
@paginates
@api_view(["GET", "POST"])
def test_list(request):
    if request.method == "GET":
        filters = parsed(TestFilter, request.query_params)
        if "project_id" in filters:
            project_get(user=request.user, project_id=filters["project_id"])
        return paginated(request, selectors.tests_for_user(user=request.user, **filters), TestOutput)
    data = parsed(TestCreateInput, request.data)
    project = project_get(user=request.user, project_id=data.pop("project_id"))
    test = services.test_create(project=project, **data)
    return Response(TestOutput(selectors.test_get(user=request.user, test_id=test.pk)).data, status=201)


@extend_schema(methods=["GET"], responses={200: TestOutput})
@extend_schema(methods=["PATCH"], request=TestInput(partial=True), responses={200: TestOutput})
@extend_schema(methods=["DELETE"], responses={204: None})
@api_view(["GET", "PATCH", "DELETE"])
def test_detail(request, test_id):
    test = selectors.test_get(user=request.user, test_id=test_id)
    if request.method == "GET":
        return Response(TestOutput(test).data)
    if request.method == "DELETE":
        services.test_delete(test=test)
        return Response(status=204)
    data = TestInput(data=request.data, partial=True)
    data.is_valid(raise_exception=True)
    services.test_update(test=test, data=data.validated_data)
    return Response(TestOutput(selectors.test_get(user=request.user, test_id=test_id)).data)


@extend_schema(
    request=TestExecuteInput,
    responses={201: TestRunOutput, 409: OpenApiResponse(ErrorOutput, description="No finished run to judge.")},
    description="Evaluate now against run_id, else the latest finished run the test targets (409 if none).",
)
@api_view(["POST"])
def test_run(request, test_id):
    test = selectors.test_get(user=request.user, test_id=test_id)
    data = parsed(TestExecuteInput, request.data)
    test_run = services.test_execute(test=test, run_id=data.get("run_id"))
    return Response(TestRunOutput(test_run).data, status=201)


@extend_schema(parameters=[TestRunHistoryFilter], responses={200: TestRunOutput(many=True)})
@paginates
@api_view(["GET"])
def test_history(request, test_id):
    test = selectors.test_get(user=request.user, test_id=test_id)
    filters = parsed(TestRunHistoryFilter, request.query_params)
    return paginated(request, selectors.test_runs_for_test(test=test, **filters), TestRunOutput)


@extend_schema(parameters=[TestRunFilter], responses={200: TestRunOutput(many=True)})
@paginates
@api_view(["GET"])
def test_run_list(request):
    filters = parsed(TestRunFilter, request.query_params)
    return paginated(request, selectors.test_runs_for_user(user=request.user, **filters), TestRunOutput)


@extend_schema(responses={200: TestRunOutput})
@api_view(["GET"])
def test_run_detail(request, test_run_id):
    return Response(TestRunOutput(selectors.test_run_get(user=request.user, test_run_id=test_run_id)).data)
