from rest_framework import serializers

from apps.accounts.serializers import SessionOutput
from apps.core.fields import StrictCharField, StrictIntegerField, StrictUUIDField
from apps.projects.models import ApiKey, Project

RETENTION_HELP = "Days its runs are kept: null follows the site default (RETENTION_DAYS), 0 keeps them forever."
MAX_RETENTION_DAYS = 36_500


class ProjectOutput(serializers.ModelSerializer):
    retention_days = serializers.IntegerField(allow_null=True, help_text=RETENTION_HELP)
    retention_effective_days = serializers.SerializerMethodField(
        help_text="The days its runs are kept now (its own period, else the site default); null: forever."
    )

    class Meta:
        model = Project
        fields = [
            "id",
            "organization_id",
            "user_id",
            "name",
            "description",
            "retention_days",
            "retention_effective_days",
            "created_at",
            "updated_at",
        ]

    def get_retention_effective_days(self, project: Project) -> int | None:
        return project.retention()


class ProjectUpdateInput(serializers.Serializer):
    """What a PATCH may change: a project stays in its organization."""

    name = StrictCharField(max_length=255)
    description = StrictCharField(required=False, allow_blank=True, allow_null=True)
    retention_days = StrictIntegerField(
        required=False, allow_null=True, min_value=0, max_value=MAX_RETENTION_DAYS, help_text=RETENTION_HELP
    )


class ProjectInput(ProjectUpdateInput):
    organization_id = StrictUUIDField(
        required=False, help_text="The organization to create it in (admins and owners); else your personal one."
    )


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
