import pytest

from apps.orgs.models import AuditEntry, Membership
from apps.orgs.roles import PERMISSIONS, RANK, Role, role_allows
from apps.orgs.tests.conftest import add, api_as

pytestmark = pytest.mark.django_db


def test_each_role_may_do_what_the_roles_below_it_may():
    for action in PERMISSIONS:
        allowed = [role for role in Role if role_allows(role, action)]
        assert allowed == [role for role in Role if RANK[role] >= RANK[PERMISSIONS[action]]]
    assert [role for role in Role if role_allows(role, "read")] == list(Role)
    assert [role for role in Role if role_allows(role, "member.role")] == [Role.OWNER]


def test_the_last_owner_cant_be_demoted(api, org, alice):
    response = api.patch(f"/api/orgs/{org.pk}/members/{alice.pk}", {"role": "admin"}, format="json")
    assert response.status_code == 400
    assert "at least one owner" in response.json()["detail"]
    assert Membership.objects.get(organization=org, user=alice).role == "owner"


def test_the_last_owner_cant_leave(api, org, alice):
    response = api.delete(f"/api/orgs/{org.pk}/members/{alice.pk}")
    assert response.status_code == 400
    assert Membership.objects.filter(organization=org, user=alice).exists()


def test_with_a_second_owner_the_first_can_step_down_and_leave(api, org, alice):
    other = add(org, "carol@example.com", "owner")
    assert api.patch(f"/api/orgs/{org.pk}/members/{alice.pk}", {"role": "admin"}, format="json").status_code == 200
    other_api = api_as(other)
    assert (
        other_api.patch(f"/api/orgs/{org.pk}/members/{other.pk}", {"role": "admin"}, format="json").status_code == 400
    )
    assert api.delete(f"/api/orgs/{org.pk}/members/{alice.pk}").status_code == 204
    assert list(org.memberships.values_list("user__email", "role")) == [("carol@example.com", "owner")]


def test_an_admin_removes_members_below_owner_but_not_an_owner(org, alice, team):
    admin = api_as(team["admin"])
    assert admin.delete(f"/api/orgs/{org.pk}/members/{alice.pk}").status_code == 403
    assert admin.delete(f"/api/orgs/{org.pk}/members/{team['member'].pk}").status_code == 204
    assert not Membership.objects.filter(user=team["member"]).exists()


def test_an_admin_cant_change_roles_and_is_told_which_role_can(org, team):
    response = api_as(team["admin"]).patch(
        f"/api/orgs/{org.pk}/members/{team['viewer'].pk}", {"role": "member"}, format="json"
    )
    assert response.status_code == 403
    assert "needs the owner role" in response.json()["detail"]


def test_a_viewer_may_leave(org, team):
    assert api_as(team["viewer"]).delete(f"/api/orgs/{org.pk}/members/{team['viewer'].pk}").status_code == 204


def test_an_outsider_gets_404_for_everything_of_the_org(org, bob):
    outsider = api_as(bob)
    for path in ("", "/members", "/invitations", "/audit-log"):
        assert outsider.get(f"/api/orgs/{org.pk}{path}").status_code == 404
    assert outsider.patch(f"/api/orgs/{org.pk}", {"name": "Mine"}, format="json").status_code == 404


def test_a_bad_role_is_a_400_in_the_error_shape(api, org, team):
    response = api.patch(f"/api/orgs/{org.pk}/members/{team['viewer'].pk}", {"role": "god"}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"detail", "errors"} and "role" in response.json()["errors"]


def test_role_changes_and_removals_are_audited_with_who_and_from_where(api, org, alice, team):
    api.patch(
        f"/api/orgs/{org.pk}/members/{team['viewer'].pk}", {"role": "member"}, format="json", REMOTE_ADDR="10.1.2.3"
    )
    api.delete(f"/api/orgs/{org.pk}/members/{team['member'].pk}")
    entries = list(AuditEntry.objects.filter(organization=org, action__startswith="member.").order_by("id"))
    assert [(e.action, e.actor_id, e.target_label, e.changes) for e in entries] == [
        ("member.role_changed", alice.pk, "viewer@example.com", {"role": ["viewer", "member"]}),
        ("member.removed", alice.pk, "member@example.com", {"role": ["member", None]}),
    ]
    assert entries[0].ip == "10.1.2.3"


def test_orgs_list_shows_mine_with_my_role(api, org, bob, team):
    api_as(bob).post("/api/orgs", {"name": "Bob's"}, format="json")
    body = api.get("/api/orgs").json()
    assert [(o["name"], o["role"]) for o in body["results"]] == [("Acme", "owner")]
    body = api_as(team["viewer"]).get("/api/orgs").json()
    assert [(o["name"], o["role"]) for o in body["results"]] == [("Acme", "viewer")]


def test_the_owner_renames_and_deletes_the_org(api, org):
    assert api.patch(f"/api/orgs/{org.pk}", {"name": "Acme Inc"}, format="json").json()["name"] == "Acme Inc"
    assert AuditEntry.objects.filter(organization=org, action="org.renamed").exists()
    assert api.delete(f"/api/orgs/{org.pk}").status_code == 204
    assert api.get(f"/api/orgs/{org.pk}").status_code == 404
