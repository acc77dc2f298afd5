from rest_framework import serializers

from apps.core.fields import StrictCharField
from apps.orgs.models import AuditEntry, Invitation, Membership, Organization
from apps.orgs.roles import Role


class OrgOutput(serializers.ModelSerializer):
    role = serializers.CharField(read_only=True, help_text="Your role in it.")

    class Meta:
        model = Organization
        fields = ["id", "name", "role", "created_at", "updated_at"]


class OrgInput(serializers.Serializer):
    name = StrictCharField(max_length=255)


class MemberOutput(serializers.ModelSerializer):
    user_id = serializers.UUIDField(read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)
    name = serializers.CharField(source="user.name", read_only=True, allow_null=True)
    joined_at = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = Membership
        fields = ["user_id", "email", "name", "role", "joined_at"]


class RoleInput(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)


class InvitationOutput(serializers.ModelSerializer):
    state = serializers.SerializerMethodField()
    invited_by = serializers.EmailField(source="invited_by.email", read_only=True, allow_null=True, default=None)

    class Meta:
        model = Invitation
        fields = ["id", "email", "role", "state", "invited_by", "created_at", "expires_at", "accepted_at", "revoked_at"]

    def get_state(self, invitation) -> str:
        return invitation.state()


class InvitationCreatedOutput(InvitationOutput):
    token = serializers.CharField(read_only=True, help_text="Shown this once: only its hash is kept.")
    url = serializers.CharField(read_only=True, help_text="The link to share; it holds the token.")

    class Meta(InvitationOutput.Meta):
        fields = [*InvitationOutput.Meta.fields, "token", "url"]


class InvitationInput(serializers.Serializer):
    email = serializers.EmailField(max_length=255)
    role = serializers.ChoiceField(choices=Role.choices, default=Role.MEMBER)


class AcceptInput(serializers.Serializer):
    token = StrictCharField(max_length=128)


class AuditEntryOutput(serializers.ModelSerializer):
    actor_id = serializers.UUIDField(read_only=True, allow_null=True)

    class Meta:
        model = AuditEntry
        fields = [
            "id", "created_at", "actor_id", "actor_label", "api_key_prefix", "ip", "action",
            "target_type", "target_id", "target_label", "changes",
        ]  # fmt: skip


class AuditFilter(serializers.Serializer):
    action = serializers.CharField(required=False, max_length=64)
    actor = serializers.CharField(required=False, max_length=255, help_text="Part of the actor's email or key prefix.")
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)
