"""The migration that puts every project in an organization (projects 0002, 0003), run on a database
with users, projects, runs and keys made before it: each user owns a personal organization holding their
projects, and everything stays reachable by its old owner, through the pages, the API and ingest."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from rest_framework.test import APIClient

from apps.accounts.tokens import tokens_for_user
from apps.orgs.models import Membership, Organization
from apps.projects.models import ApiKey, Project

BEFORE = [
    ("projects", "0001_initial"),
    ("orgs", "0001_organizations_members_invitations_audit"),
    ("runs", "0004_write_path"),
]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_each_user_gets_a_personal_org_owning_their_projects_and_keeps_everything(django_user_model):
    old = migrate(BEFORE)
    OldUser, OldProject = old.get_model("accounts", "User"), old.get_model("projects", "Project")
    OldKey, OldRun = old.get_model("projects", "ApiKey"), old.get_model("runs", "Run")
    alice = OldUser.objects.create(email="alice@example.com", name="Alice", password="x")
    bob = OldUser.objects.create(email="bob@example.com", password="x")
    nobody = OldUser.objects.create(email="nobody@example.com", password="x")  # no project yet
    projects = {
        "alice-1": OldProject.objects.create(user=alice, name="Support"),
        "alice-2": OldProject.objects.create(user=alice, name="Research"),
        "bob": OldProject.objects.create(user=bob, name="Bob's"),
    }
    raw = "as_" + "k" * 43
    OldKey.objects.create(project=projects["alice-1"], key_hash=ApiKey.hash(raw), key_prefix=raw[:11])
    run = OldRun.objects.create(project=projects["alice-1"], agent_name="support-bot", status="completed")

    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    assert Organization.objects.count() == 3
    for email, names in (("alice@example.com", {"Support", "Research"}), ("bob@example.com", {"Bob's"})):
        membership = Membership.objects.get(user__email=email)
        assert membership.role == "owner"
        assert set(Project.objects.filter(organization=membership.organization).values_list("name", flat=True)) == names
        assert (
            set(Project.objects.filter(user__email=email).values_list("name", flat=True)) == names
        )  # the creator kept
    assert Organization.objects.get(memberships__user_id=nobody.pk).projects.count() == 0
    assert Organization.objects.get(memberships__user__email="alice@example.com").name == "Alice's organization"

    alice_user = django_user_model.objects.get(email="alice@example.com")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens_for_user(alice_user)['access']}")
    assert api.get(f"/api/runs/{run.pk}").status_code == 200
    assert api.delete(f"/api/runs/{run.pk}").status_code == 204  # the owner's rights, not only reading
    bob_api = APIClient()
    bob_api.credentials(
        HTTP_AUTHORIZATION=f"Bearer {tokens_for_user(django_user_model.objects.get(email='bob@example.com'))['access']}"
    )
    assert bob_api.get(f"/api/projects/{projects['alice-1'].pk}").status_code == 404
    ingest = APIClient()
    ingest.credentials(HTTP_X_AGENTSCOPE_KEY=raw)
    assert ingest.post("/api/ingest/run", {"agent_name": "support-bot"}, format="json").status_code == 201
