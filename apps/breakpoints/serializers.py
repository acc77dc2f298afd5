from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.breakpoints.models import Breakpoint, BreakpointHit, ConditionType, HitAction
from apps.core.fields import StrictBooleanField, StrictCharField, StrictIntegerField
from apps.runs.models import Run


class BreakpointOutput(serializers.ModelSerializer):
    class Meta:
        model = Breakpoint
        fields = [
            "id",
            "project_id",
            "name",
            "condition_type",
            "condition_value",
            "agent_name",
            "enabled",
            "created_at",
            "updated_at",
        ]


class BreakpointUpdateInput(serializers.Serializer):
    name = StrictCharField(max_length=255, required=False, allow_blank=True, allow_null=True)
    condition_type = serializers.ChoiceField(choices=ConditionType.choices)
    condition_value = serializers.JSONField(required=False, allow_null=True)
    agent_name = StrictCharField(max_length=255, required=False, allow_blank=True, allow_null=True)
    enabled = StrictBooleanField(required=False, default=True)


class BreakpointInput(BreakpointUpdateInput):
    project_id = serializers.UUIDField()


class BreakpointListQuery(serializers.Serializer):
    project_id = serializers.UUIDField(required=False)


class ToggleInput(serializers.Serializer):
    enabled = StrictBooleanField(required=False, help_text="Omit to flip the current value.")


class BreakpointTestInput(serializers.Serializer):
    condition_type = serializers.ChoiceField(choices=ConditionType.choices)
    condition_value = serializers.JSONField(required=False, allow_null=True)
    agent_name = StrictCharField(max_length=255, required=False, allow_blank=True, allow_null=True)
    step_id = serializers.UUIDField(required=False, help_text="Omit to test against the project's latest step.")
    project_id = serializers.UUIDField(required=False)

    def validate(self, attrs):
        if "step_id" not in attrs and "project_id" not in attrs:
            raise serializers.ValidationError({"step_id": ["Give a step_id, or a project_id to use its latest step."]})
        return attrs


class BreakpointTestOutput(serializers.Serializer):
    condition_type = serializers.CharField()
    condition_value = serializers.JSONField()
    match = serializers.BooleanField()
    value = serializers.JSONField(required=False, help_text="The custom expression's value.")
    error = serializers.CharField(required=False, allow_null=True, help_text="Why the expression failed, if it did.")
    step = serializers.JSONField()
    run = serializers.JSONField()


CONTROL_ACTIONS = ["pause", *HitAction.values]


@extend_schema_field({"type": "string", "enum": CONTROL_ACTIONS}, component_name="ControlActionEnum")
class ControlActionField(serializers.ChoiceField):
    """Its own component: as a plain choice it would collide with the hit's `action` enum."""


class ControlOutput(serializers.Serializer):
    action = ControlActionField(choices=CONTROL_ACTIONS)
    hit_id = serializers.UUIDField(allow_null=True)
    input = serializers.JSONField(required=False, help_text="The edited step input, when it was edited.")
    output = serializers.JSONField(required=False, help_text="The output to return instead of running the step.")
    message = serializers.CharField(required=False, help_text="Who aborted the run, where.")
    timed_out = serializers.BooleanField(required=False)


class ControlQuery(serializers.Serializer):
    hit_id = serializers.UUIDField(required=False)


class ControlTimeoutInput(serializers.Serializer):
    hit_id = serializers.UUIDField()
    timed_out = StrictBooleanField()
    waited_ms = StrictIntegerField(min_value=0, required=False, allow_null=True)

    def validate_timed_out(self, value):
        if not value:
            raise serializers.ValidationError("Only a timeout can be reported here; a person decides the rest.")
        return value


class ResumeInput(serializers.Serializer):
    action = serializers.ChoiceField(choices=HitAction.choices)
    input = serializers.JSONField(required=False, allow_null=True, help_text="With continue: the step's new input.")
    output = serializers.JSONField(required=False, allow_null=True, help_text="With skip: what the step returns.")
    hit_id = serializers.UUIDField(required=False, help_text="Omit for the run's (oldest) waiting step.")

    def validate(self, attrs):
        action = attrs["action"]
        if "input" in attrs and action != HitAction.CONTINUE:
            raise serializers.ValidationError({"input": ["Only continue takes an edited input."]})
        if action == HitAction.SKIP and "output" not in attrs:
            raise serializers.ValidationError({"output": ["Skipping a step needs the output to hand the agent."]})
        if "output" in attrs and action != HitAction.SKIP:
            raise serializers.ValidationError({"output": ["Only skip takes an output."]})
        return attrs


class HitOutput(serializers.ModelSerializer):
    step_index = serializers.IntegerField(source="step.step_index")
    breakpoint_name = serializers.CharField(source="breakpoint_label")
    resolved_by = serializers.EmailField(source="resolved_by.email", allow_null=True, default=None)

    class Meta:
        model = BreakpointHit
        fields = [
            "id",
            "run_id",
            "step_id",
            "step_index",
            "breakpoint_id",
            "breakpoint_name",
            "phase",
            "status",
            "action",
            "step_input",
            "input_edited",
            "edited_input",
            "skip_output",
            "resolved_by",
            "resolved_at",
            "waited_ms",
            "timed_out",
            "created_at",
        ]


class RunStateOutput(serializers.ModelSerializer):
    class Meta:
        model = Run
        fields = ["id", "status", "error", "ended_at"]


class ResumeOutput(serializers.Serializer):
    hit = HitOutput()
    run = RunStateOutput()
