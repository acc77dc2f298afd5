from rest_framework import serializers

from apps.accounts.models import User
from apps.core.fields import StrictCharField


class UserOutput(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "name", "created_at", "updated_at"]


class RegisterInput(serializers.Serializer):
    email = serializers.EmailField(max_length=255)
    password = StrictCharField(max_length=128, trim_whitespace=False)
    name = StrictCharField(max_length=255, required=False, allow_blank=True, allow_null=True)


class LoginInput(serializers.Serializer):
    email = StrictCharField(max_length=255)
    password = StrictCharField(max_length=128, trim_whitespace=False)


class LogoutInput(serializers.Serializer):
    refresh = StrictCharField(required=False, allow_blank=True)


class SessionOutput(serializers.Serializer):
    """What signing in or up answers: the JWTs and who they are for."""

    access = serializers.CharField(help_text="`Authorization: Bearer <access>`")
    refresh = serializers.CharField()
    user = UserOutput()
