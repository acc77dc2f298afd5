from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view, authentication_classes, permission_classes, throttle_classes
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from apps.accounts.serializers import RegisterInput, UserOutput
from apps.accounts.throttling import RegisterIpThrottle
from apps.accounts.tokens import tokens_for_user
from apps.core.api import validated
from apps.core.pagination import paginated, paginates
from apps.orgs.audit import actor_from_request
from apps.orgs.permissions import authorize
from apps.orgs.selectors import org_get
from apps.projects import selectors, services
from apps.projects.serializers import (
    ApiKeyCreatedOutput,
    ApiKeyCreateInput,
    ApiKeyOutput,
    ProjectInput,
    ProjectOutput,
    ProjectUpdateInput,
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
    data = validated(ProjectInput, request.data)
    organization_id = data.pop("organization_id", None)
    organization = org_get(user=request.user, organization_id=organization_id) if organization_id else None
    if organization is not None:
        authorize(user=request.user, organization_id=organization.pk, action="project.create")
    actor = actor_from_request(request)
    project = services.project_create(user=request.user, organization=organization, actor=actor, **data)
    return Response(ProjectOutput(project).data, status=201)


@extend_schema(methods=["GET"], responses={200: ProjectOutput})
@extend_schema(methods=["PATCH"], request=ProjectUpdateInput(partial=True), responses={200: ProjectOutput})
@extend_schema(methods=["DELETE"], responses={204: None})
@api_view(["GET", "PATCH", "DELETE"])
def project_detail(request, project_id):
    action = {"GET": "read", "DELETE": "project.delete"}.get(request.method, "project.edit")
    project = selectors.project_get(user=request.user, project_id=project_id, action=action)
    if request.method == "GET":
        return Response(ProjectOutput(project).data)
    if request.method == "DELETE":
        services.project_delete(project=project, actor=actor_from_request(request))
        return Response(status=204)
    data = validated(ProjectUpdateInput, request.data, partial=True)
    project = services.project_update(project=project, data=data, actor=actor_from_request(request))
    return Response(ProjectOutput(project).data)


@extend_schema(methods=["GET"], responses={200: ApiKeyOutput(many=True)})
@extend_schema(methods=["POST"], request=ApiKeyCreateInput, responses={201: ApiKeyCreatedOutput})
@paginates
@api_view(["GET", "POST"])
def api_key_list(request, project_id):
    action = "read" if request.method == "GET" else "api_key.write"
    project = selectors.project_get(user=request.user, project_id=project_id, action=action)
    if request.method == "GET":
        return paginated(request, selectors.api_keys_for_project(project=project), ApiKeyOutput)
    name = validated(ApiKeyCreateInput, request.data).get("name")
    api_key, raw = services.api_key_create(project=project, name=name, actor=actor_from_request(request))
    return Response({**ApiKeyOutput(api_key).data, "key": raw}, status=201)


@extend_schema(responses={204: None})
@api_view(["DELETE"])
def api_key_revoke(request, project_id, key_id):
    api_key = selectors.api_key_get(user=request.user, project_id=project_id, key_id=key_id, action="api_key.write")
    services.api_key_revoke(api_key=api_key, actor=actor_from_request(request))
    return Response(status=204)
