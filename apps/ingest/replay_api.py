"""What the SDK's replay mode reads: the plan of a pending replay of the key's project.

GET shows the plan; POST claims it (the run goes from pending to running, its clock restarts) and
answers the same plan, so two processes can't both run one replay.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from apps.ingest.api import errors, ingest_api, project
from apps.runs.replay import replay_claim, replay_plan
from apps.runs.selectors import run_get_for_project


class ReplayPlanStepOutput(serializers.Serializer):
    id = serializers.UUIDField(help_text="The copy's id in the replay run.")
    index = serializers.IntegerField()
    type = serializers.CharField()
    name = serializers.CharField(allow_null=True)
    parent_id = serializers.UUIDField(allow_null=True)
    output = serializers.JSONField(allow_null=True, help_text="What the step returns in the replay.")
    error = serializers.JSONField(allow_null=True, help_text="What the step raises in the replay, if it failed.")
    contains_fork = serializers.BooleanField(help_text="The fork step is nested in it: it runs live.")


class ReplayPlanOutput(serializers.Serializer):
    run = serializers.DictField(help_text="id, agent_name, status, input and metadata of the replay run.")
    replay_of = serializers.UUIDField(allow_null=True)
    from_step = serializers.IntegerField()
    fork = serializers.DictField(help_text="The type and name of the step the replay forks at.")
    has_step_input = serializers.BooleanField()
    step_input = serializers.JSONField(allow_null=True)
    has_step_output = serializers.BooleanField()
    step_output = serializers.JSONField(allow_null=True)
    steps = ReplayPlanStepOutput(many=True)


@extend_schema(
    tags=["ingest"],
    methods=["GET"],
    responses={200: ReplayPlanOutput, **errors(400, 404)},
    description="The replay plan of a replay run: its input, the recorded steps before the fork and the fork's edits.",
)
@extend_schema(
    tags=["ingest"],
    methods=["POST"],
    request=None,
    responses={200: ReplayPlanOutput, **errors(400, 404, 409)},
    description="Claims a pending replay (it becomes running) and answers its plan; 409 once it was claimed.",
)
@ingest_api(["GET", "POST"])
def run_replay_plan(request, run_id):
    if request.method == "POST":
        run = replay_claim(project=project(request), run_id=run_id)
    else:
        run = run_get_for_project(project=project(request), run_id=run_id)
    return Response(ReplayPlanOutput(replay_plan(run=run)).data)
