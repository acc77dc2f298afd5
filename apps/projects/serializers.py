from rest_framework import serializers

from apps.accounts.serializers import SessionOutput
from apps.core.fields import StrictCharField
from apps.projects.models import ApiKey, Project


class ProjectOutput(serializers.ModelSerializer):
    class Meta:
        model = Project
        fields = ["id", "organization_id", "user_id", "name", "description", "created_at", "updated_at"]


class ProjectInput(serializers.Serializer):
    organization_id = serializers.UUIDField(
        required=False, help_text="The organization to create it in (admins and owners); else your personal one."
    )
    name = StrictCharField(max_length=255)
    description = StrictCharField(required=False, allow_blank=True, allow_null=True)


class ApiKeyOutput(serializers.ModelSerializer):
    is_revoked = serializers.BooleanField(read_only=True)

    class Meta:
        model = ApiKey
        fields = ["id", "project_id", "name", "key_prefix", "last_used_at", "created_at", "revoked_at", "is_revoked"]


class ApiKeyCreatedOutput(ApiKeyOutput):
    key = serializers.CharField(read_only=True, help_text="The whole key: shown this once, only its hash is kept.")

    class Meta(ApiKeyOutput.Meta):
        fields = [*ApiKeyOutput.Meta.fields, "key"]


class SignupOutput(SessionOutput):
    project = ProjectOutput(help_text="The account's first project.")


class ApiKeyCreateInput(serializers.Serializer):
    name = StrictCharField(max_length=255, required=False, allow_blank=True, allow_null=True)


class StatsOutput(serializers.Serializer):
    total_runs = serializers.IntegerField()
    failed_runs = serializers.IntegerField()
    avg_latency_ms = serializers.FloatField(allow_null=True)
    test_pass_rate = serializers.FloatField(allow_null=True)
    runs_by_day = serializers.ListField(child=serializers.DictField())
