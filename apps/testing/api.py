"""/api/tests and /api/test-runs: JWT or session, scoped to the caller's projects."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.decorators import api_view
from rest_framework.response import Response

from apps.core.api import validated
from apps.core.errors import ErrorOutput
from apps.core.pagination import paginated, paginates
from apps.orgs.audit import actor_from_request
from apps.projects.selectors import project_get
from apps.testing import selectors, services
from apps.testing.serializers import (
    TestBackfillInput,
    TestBackfillOutput,
    TestCreateInput,
    TestExecuteInput,
    TestFilter,
    TestInput,
    TestOutput,
    TestRunFilter,
    TestRunHistoryFilter,
    TestRunOutput,
)


@extend_schema(methods=["GET"], parameters=[TestFilter], responses={200: TestOutput(many=True)})
@extend_schema(methods=["POST"], request=TestCreateInput, responses={201: TestOutput})
@paginates
@api_view(["GET", "POST"])
def test_list(request):
    if request.method == "GET":
        filters = validated(TestFilter, request.query_params, omit_none=True)
        if "project_id" in filters:
            project_get(user=request.user, project_id=filters["project_id"])
        return paginated(request, selectors.tests_for_user(user=request.user, **filters), TestOutput)
    data = validated(TestCreateInput, request.data, omit_none=True)
    project = project_get(user=request.user, project_id=data.pop("project_id"), action="test.write")
    test = services.test_create(project=project, actor=actor_from_request(request), **data)
    return Response(TestOutput(selectors.test_get(user=request.user, test_id=test.pk)).data, status=201)


@extend_schema(methods=["GET"], responses={200: TestOutput})
@extend_schema(methods=["PATCH"], request=TestInput(partial=True), responses={200: TestOutput})
@extend_schema(methods=["DELETE"], responses={204: None})
@api_view(["GET", "PATCH", "DELETE"])
def test_detail(request, test_id):
    action = "read" if request.method == "GET" else "test.write"
    test = selectors.test_get(user=request.user, test_id=test_id, action=action)
    if request.method == "GET":
        return Response(TestOutput(test).data)
    if request.method == "DELETE":
        services.test_delete(test=test, actor=actor_from_request(request))
        return Response(status=204)
    data = validated(TestInput, request.data, partial=True)
    services.test_update(test=test, data=data, actor=actor_from_request(request))
    return Response(TestOutput(selectors.test_get(user=request.user, test_id=test_id)).data)


@extend_schema(
    request=TestExecuteInput,
    responses={201: TestRunOutput, 409: OpenApiResponse(ErrorOutput, description="No finished run to judge.")},
    description="Evaluate now against run_id, else the latest finished run the test targets (409 if none).",
)
@api_view(["POST"])
def test_run(request, test_id):
    test = selectors.test_get(user=request.user, test_id=test_id, action="test.write")
    data = validated(TestExecuteInput, request.data, omit_none=True)
    test_run = services.test_execute(test=test, run_id=data.get("run_id"))
    return Response(TestRunOutput(test_run).data, status=201)


@extend_schema(
    request=TestBackfillInput,
    responses={202: TestBackfillOutput, 409: OpenApiResponse(ErrorOutput, description="No finished run to judge.")},
    description="Judge the last `count` finished runs the test targets, off the request path; "
    "follow `done` of `total` at /api/tests/{test_id}/backfills/{backfill_id}.",
)
@api_view(["POST"])
def test_backfill(request, test_id):
    test = selectors.test_get(user=request.user, test_id=test_id, action="test.write")
    data = validated(TestBackfillInput, request.data)
    backfill = services.test_backfill_start(test=test, count=data["count"])
    return Response(TestBackfillOutput(backfill).data, status=202)


@extend_schema(responses={200: TestBackfillOutput})
@api_view(["GET"])
def test_backfill_detail(request, test_id, backfill_id):
    test = selectors.test_get(user=request.user, test_id=test_id)
    return Response(TestBackfillOutput(selectors.backfill_get(test=test, backfill_id=backfill_id)).data)


@extend_schema(parameters=[TestRunHistoryFilter], responses={200: TestRunOutput(many=True)})
@paginates
@api_view(["GET"])
def test_history(request, test_id):
    test = selectors.test_get(user=request.user, test_id=test_id)
    filters = validated(TestRunHistoryFilter, request.query_params, omit_none=True)
    return paginated(request, selectors.test_runs_for_test(test=test, **filters), TestRunOutput)


@extend_schema(parameters=[TestRunFilter], responses={200: TestRunOutput(many=True)})
@paginates
@api_view(["GET"])
def test_run_list(request):
    filters = validated(TestRunFilter, request.query_params, omit_none=True)
    return paginated(request, selectors.test_runs_for_user(user=request.user, **filters), TestRunOutput)


@extend_schema(responses={200: TestRunOutput})
@api_view(["GET"])
def test_run_detail(request, test_run_id):
    return Response(TestRunOutput(selectors.test_run_get(user=request.user, test_run_id=test_run_id)).data)
