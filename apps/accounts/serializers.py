from rest_framework import serializers

from apps.accounts.models import User


class UserOutput(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "name", "created_at", "updated_at"]


class RegisterInput(serializers.Serializer):
    email = serializers.EmailField(max_length=255)
    password = serializers.CharField(max_length=128, trim_whitespace=False)
    name = serializers.CharField(max_length=255, required=False, allow_blank=True, allow_null=True)


class LoginInput(serializers.Serializer):
    email = serializers.CharField(max_length=255)
    password = serializers.CharField(max_length=128, trim_whitespace=False)


class LogoutInput(serializers.Serializer):
    refresh = serializers.CharField(required=False, allow_blank=True)
