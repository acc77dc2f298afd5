from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.decorators import api_view
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from apps.breakpoints import selectors, services
from apps.breakpoints.serializers import (
    BreakpointInput,
    BreakpointListQuery,
    BreakpointOutput,
    BreakpointTestInput,
    BreakpointTestOutput,
    BreakpointUpdateInput,
    ResumeInput,
    ResumeOutput,
    ToggleInput,
)
from apps.core.api import validated
from apps.core.errors import ErrorOutput
from apps.core.pagination import paginated, paginates
from apps.orgs.audit import actor_from_request
from apps.projects.selectors import project_get
from apps.runs.models import RunStep
from apps.runs.selectors import run_get_for_user


@extend_schema(methods=["GET"], parameters=[BreakpointListQuery], responses={200: BreakpointOutput(many=True)})
@extend_schema(methods=["POST"], request=BreakpointInput, responses={201: BreakpointOutput})
@paginates
@api_view(["GET", "POST"])
def breakpoint_list(request):
    if request.method == "GET":
        query = validated(BreakpointListQuery, request.query_params)
        breakpoints = selectors.breakpoints_for_user(user=request.user, project_id=query.get("project_id"))
        return paginated(request, breakpoints, BreakpointOutput)
    data = validated(BreakpointInput, request.data)
    project = project_get(user=request.user, project_id=data.pop("project_id"), action="breakpoint.write")
    breakpoint = services.breakpoint_create(project=project, actor=actor_from_request(request), **data)
    return Response(BreakpointOutput(breakpoint).data, status=201)


@extend_schema(methods=["GET"], responses={200: BreakpointOutput})
@extend_schema(methods=["PATCH"], request=BreakpointUpdateInput(partial=True), responses={200: BreakpointOutput})
@extend_schema(methods=["DELETE"], responses={204: None})
@api_view(["GET", "PATCH", "DELETE"])
def breakpoint_detail(request, breakpoint_id):
    action = "read" if request.method == "GET" else "breakpoint.write"
    breakpoint = selectors.breakpoint_get(user=request.user, breakpoint_id=breakpoint_id, action=action)
    if request.method == "DELETE":
        services.breakpoint_delete(breakpoint=breakpoint, actor=actor_from_request(request))
        return Response(status=204)
    if request.method == "PATCH":
        data = validated(BreakpointUpdateInput, request.data, partial=True)
        breakpoint = services.breakpoint_update(breakpoint=breakpoint, data=data, actor=actor_from_request(request))
    return Response(BreakpointOutput(breakpoint).data)


@extend_schema(request=ToggleInput, responses={200: BreakpointOutput})
@api_view(["POST"])
def breakpoint_toggle(request, breakpoint_id):
    breakpoint = selectors.breakpoint_get(user=request.user, breakpoint_id=breakpoint_id, action="breakpoint.write")
    data = validated(ToggleInput, request.data)
    actor = actor_from_request(request)
    breakpoint = services.breakpoint_toggle(breakpoint=breakpoint, enabled=data.get("enabled"), actor=actor)
    return Response(BreakpointOutput(breakpoint).data)


@extend_schema(request=BreakpointTestInput, responses={200: BreakpointTestOutput})
@api_view(["POST"])
def breakpoint_test(request):
    """Does this condition match a step? For the editor's "test against a recent step" button."""
    data = validated(BreakpointTestInput, request.data)
    if "step_id" in data:
        step = get_object_or_404(
            RunStep.objects.select_related("run"),
            pk=data["step_id"],
            run__project__organization__memberships__user=request.user,
        )
    else:
        project = project_get(user=request.user, project_id=data["project_id"])
        step = selectors.recent_steps_for_project(project=project, limit=1).first()
        if step is None:
            return Response({"detail": "This project has no steps to test against yet.", "errors": {}}, status=404)
    return Response(services.breakpoint_test_against_step(breakpoint_data=data, step=step))


@extend_schema(
    request=ResumeInput,
    responses={
        200: ResumeOutput,
        409: OpenApiResponse(ErrorOutput, description="Nothing waits at a breakpoint, or someone decided first."),
    },
)
@api_view(["POST"])
def run_resume_api(request, run_id):
    run = run_get_for_user(user=request.user, run_id=run_id, action="run.resume")
    data = validated(ResumeInput, request.data)
    hit = services.run_resume(run=run, user=request.user, actor=actor_from_request(request), **data)
    run.refresh_from_db(fields=["status", "error", "ended_at"])
    return Response(ResumeOutput({"hit": hit, "run": run}).data)
