from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.decorators import api_view, authentication_classes, permission_classes, throttle_classes
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from apps.accounts import services
from apps.accounts.serializers import LoginInput, LogoutInput, SessionOutput, UserOutput
from apps.accounts.throttling import LoginAccountThrottle, LoginIpThrottle
from apps.accounts.tokens import tokens_for_user
from apps.core.api import validated
from apps.core.errors import ErrorOutput, error_response


@extend_schema(
    request=LoginInput,
    responses={
        200: SessionOutput,
        401: OpenApiResponse(ErrorOutput, description="Wrong email or password, or a deactivated account."),
    },
)
@api_view(["POST"])
@authentication_classes([])
@permission_classes([AllowAny])
@throttle_classes([LoginIpThrottle, LoginAccountThrottle])
def login(request):
    user = services.user_authenticate(**validated(LoginInput, request.data))
    if user is None:
        return error_response("Invalid email or password.", status=401)
    return Response({**tokens_for_user(user), "user": UserOutput(user).data})


@extend_schema(responses={200: UserOutput})
@api_view(["GET"])
def me(request):
    return Response(UserOutput(request.user).data)


@extend_schema(request=LogoutInput, responses={204: None})
@api_view(["POST"])
def logout(request):
    data = validated(LogoutInput, request.data)
    if request.auth is not None:
        services.token_revoke(access=str(request.auth), refresh=data.get("refresh"))
    else:
        from django.contrib.auth import logout as session_logout

        session_logout(request)
    return Response(status=204)
