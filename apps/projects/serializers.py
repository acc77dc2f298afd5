from rest_framework import serializers

from apps.projects.models import ApiKey, Project


class ProjectOutput(serializers.ModelSerializer):
    class Meta:
        model = Project
        fields = ["id", "user_id", "name", "description", "created_at", "updated_at"]


class ProjectInput(serializers.Serializer):
    name = serializers.CharField(max_length=255)
    description = serializers.CharField(required=False, allow_blank=True, allow_null=True)


class ApiKeyOutput(serializers.ModelSerializer):
    is_revoked = serializers.BooleanField(read_only=True)

    class Meta:
        model = ApiKey
        fields = ["id", "project_id", "name", "key_prefix", "last_used_at", "created_at", "revoked_at", "is_revoked"]


class ApiKeyCreateInput(serializers.Serializer):
    name = serializers.CharField(max_length=255, required=False, allow_blank=True, allow_null=True)


class StatsOutput(serializers.Serializer):
    total_runs = serializers.IntegerField()
    failed_runs = serializers.IntegerField()
    avg_latency_ms = serializers.FloatField(allow_null=True)
    test_pass_rate = serializers.FloatField(allow_null=True)
    runs_by_day = serializers.ListField(child=serializers.DictField())
