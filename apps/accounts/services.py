import contextlib

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from rest_framework_simplejwt.exceptions import TokenError

from apps.accounts.models import User
from apps.accounts.tokens import AccessToken, RefreshToken
from apps.core.errors import ApplicationError


@transaction.atomic
def user_register(*, email: str, password: str, name: str | None = None) -> User:
    """Create the user; the caller then creates their default project (projects sits above us)."""
    email = User.objects.normalize_email(email).lower()
    if User.objects.filter(email__iexact=email).exists():
        raise ApplicationError("Registration failed.", errors={"email": ["An account with this email exists."]})
    candidate = User(email=email, name=name or None)
    try:
        password_validation.validate_password(password, user=candidate)
    except DjangoValidationError as exc:
        raise ApplicationError("Registration failed.", errors={"password": list(exc.messages)}) from exc
    return User.objects.create_user(email=email, password=password, name=name or None)


def user_authenticate(*, email: str, password: str) -> User | None:
    """The user for these credentials, or None; an unknown email costs a hash like a wrong password."""
    user = User.objects.filter(email__iexact=(email or "").strip()).first()
    if user is None:
        User().set_password(password)
        return None
    if not user.check_password(password) or not user.is_active:
        return None
    return user


def token_revoke(*, access: str, refresh: str | None = None) -> None:
    AccessToken(access).blacklist()
    if refresh:
        with contextlib.suppress(TokenError):
            RefreshToken(refresh).blacklist()
