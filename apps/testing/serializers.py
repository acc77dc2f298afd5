from rest_framework import serializers

from apps.core.fields import StrictBooleanField, StrictCharField
from apps.testing.models import Test, TestRun, TestRunStatus, TestType


class TestOutput(serializers.ModelSerializer):
    last_status = serializers.ChoiceField(choices=TestRunStatus.choices, allow_null=True, read_only=True)
    last_run_at = serializers.DateTimeField(allow_null=True, read_only=True)
    run_count = serializers.IntegerField(read_only=True)
    pass_rate = serializers.FloatField(allow_null=True, read_only=True, help_text="Passed over passed+failed+error.")

    class Meta:
        model = Test
        fields = [
            "id",
            "project_id",
            "name",
            "description",
            "test_type",
            "config",
            "enabled",
            "created_at",
            "updated_at",
            "last_status",
            "last_run_at",
            "run_count",
            "pass_rate",
        ]


class TestInput(serializers.Serializer):
    name = StrictCharField(max_length=255)
    description = StrictCharField(required=False, allow_blank=True, allow_null=True)
    test_type = serializers.ChoiceField(choices=TestType.choices)
    config = serializers.JSONField(help_text="See docs: target, input, and the type's checks.")
    enabled = StrictBooleanField(required=False, default=True)


class TestCreateInput(TestInput):
    project_id = serializers.UUIDField()


class TestFilter(serializers.Serializer):
    project_id = serializers.UUIDField(required=False)
    test_type = serializers.ChoiceField(choices=TestType.choices, required=False)
    enabled = serializers.BooleanField(required=False, allow_null=True, default=None)


class TestExecuteInput(serializers.Serializer):
    run_id = serializers.UUIDField(required=False, allow_null=True, help_text="Default: the latest matching run.")


class TestRunOutput(serializers.ModelSerializer):
    test_name = serializers.CharField(source="test.name", read_only=True)

    class Meta:
        model = TestRun
        fields = ["id", "test_id", "test_name", "run_id", "status", "result", "error", "duration_ms", "executed_at"]


class TestRunFilter(serializers.Serializer):
    project_id = serializers.UUIDField(required=False)
    test_id = serializers.UUIDField(required=False)
    run_id = serializers.UUIDField(required=False)
    status = serializers.ChoiceField(choices=TestRunStatus.choices, required=False)
    executed_after = serializers.DateTimeField(required=False)
    executed_before = serializers.DateTimeField(required=False)


class TestRunHistoryFilter(serializers.Serializer):
    status = serializers.ChoiceField(choices=TestRunStatus.choices, required=False)
