from rest_framework_simplejwt.authentication import JWTAuthentication as BaseJWTAuthentication


class JWTAuthentication(BaseJWTAuthentication):
    """simplejwt's authentication; says `Bearer` in WWW-Authenticate so 401s stay 401s."""

    www_authenticate_realm = "api"
