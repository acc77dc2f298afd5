from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view, authentication_classes, permission_classes, throttle_classes
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from apps.accounts.serializers import RegisterInput, UserOutput
from apps.accounts.throttling import RegisterIpThrottle
from apps.accounts.tokens import tokens_for_user
from apps.core.api import validated
from apps.core.pagination import paginated, paginates
from apps.projects import selectors, services
from apps.projects.serializers import (
    ApiKeyCreatedOutput,
    ApiKeyCreateInput,
    ApiKeyOutput,
    ProjectInput,
    ProjectOutput,
    SignupOutput,
)


@extend_schema(request=RegisterInput, responses={201: SignupOutput})
@api_view(["POST"])
@authentication_classes([])
@permission_classes([AllowAny])
@throttle_classes([RegisterIpThrottle])
def register(request):
    user, project = services.account_signup(**validated(RegisterInput, request.data))
    body = {**tokens_for_user(user), "user": UserOutput(user).data, "project": ProjectOutput(project).data}
    return Response(body, status=201)


@extend_schema(methods=["GET"], responses={200: ProjectOutput(many=True)})
@extend_schema(methods=["POST"], request=ProjectInput, responses={201: ProjectOutput})
@paginates
@api_view(["GET", "POST"])
def project_list(request):
    if request.method == "GET":
        return paginated(request, selectors.projects_for_user(user=request.user), ProjectOutput)
    project = services.project_create(user=request.user, **validated(ProjectInput, request.data))
    return Response(ProjectOutput(project).data, status=201)


@extend_schema(methods=["GET"], responses={200: ProjectOutput})
@extend_schema(methods=["PATCH"], request=ProjectInput(partial=True), responses={200: ProjectOutput})
@extend_schema(methods=["DELETE"], responses={204: None})
@api_view(["GET", "PATCH", "DELETE"])
def project_detail(request, project_id):
    project = selectors.project_get(user=request.user, project_id=project_id)
    if request.method == "GET":
        return Response(ProjectOutput(project).data)
    if request.method == "DELETE":
        services.project_delete(project=project)
        return Response(status=204)
    project = services.project_update(project=project, data=validated(ProjectInput, request.data, partial=True))
    return Response(ProjectOutput(project).data)


@extend_schema(methods=["GET"], responses={200: ApiKeyOutput(many=True)})
@extend_schema(methods=["POST"], request=ApiKeyCreateInput, responses={201: ApiKeyCreatedOutput})
@paginates
@api_view(["GET", "POST"])
def api_key_list(request, project_id):
    project = selectors.project_get(user=request.user, project_id=project_id)
    if request.method == "GET":
        return paginated(request, selectors.api_keys_for_project(project=project), ApiKeyOutput)
    api_key, raw = services.api_key_create(project=project, name=validated(ApiKeyCreateInput, request.data).get("name"))
    return Response({**ApiKeyOutput(api_key).data, "key": raw}, status=201)


@extend_schema(responses={204: None})
@api_view(["DELETE"])
def api_key_revoke(request, project_id, key_id):
    api_key = selectors.api_key_get(user=request.user, project_id=project_id, key_id=key_id)
    services.api_key_revoke(api_key=api_key)
    return Response(status=204)
