"""The organization's pages: registration's personal organization, the invitation link, the Members and
Audit log tabs."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import User
from apps.orgs.audit import Actor
from apps.orgs.models import AuditEntry, Invitation, Membership
from apps.orgs.services import invitation_create
from apps.projects.services import account_signup

pytestmark = pytest.mark.django_db


def invite(project, alice, email="dan@example.com", role="viewer"):
    return invitation_create(
        organization=project.organization, email=email, role=role, by_role="owner", actor=Actor(user=alice),
        accept_url=lambda raw: f"http://testserver/invitations/{raw}",
    )  # fmt: skip


def test_registration_makes_a_personal_org_owned_with_its_default_project():
    user, project = account_signup(email="eve@example.com", password="correct-horse-battery-staple")
    membership = Membership.objects.get(user=user)
    assert membership.role == "owner" and project.organization_id == membership.organization_id
    assert project.organization.name == "eve's organization"


def test_a_new_person_registers_and_joins_through_the_link(client, project, alice):
    _, raw = invite(project, alice)
    page = client.get(f"/invitations/{raw}")
    assert page.status_code == 200 and b"Join" in page.content and b"dan@example.com" in page.content
    response = client.post(f"/invitations/{raw}", {"name": "Dan", "password": "correct-horse-battery-staple"})
    assert response.status_code == 302 and f"project={project.pk}" in response["Location"]
    dan = User.objects.get(email="dan@example.com")
    assert Membership.objects.get(organization=project.organization, user=dan).role == "viewer"
    assert client.get(f"/runs?project={project.pk}").status_code == 200
    assert AuditEntry.objects.filter(organization=project.organization, action="member.joined", actor=dan).exists()


def test_a_signed_in_person_accepts(client, project, alice, bob):
    _, raw = invite(project, alice, email="bob@example.com", role="member")
    client.force_login(bob)
    assert b"data-accept-invitation" in client.get(f"/invitations/{raw}").content
    assert client.post(f"/invitations/{raw}").status_code == 302
    assert Membership.objects.get(organization=project.organization, user=bob).role == "member"


@pytest.mark.parametrize("case", ["used", "revoked", "expired", "tampered"])
def test_a_link_that_cant_be_used_gets_a_clear_page(client, project, alice, bob, case):
    invitation, raw = invite(project, alice, email="bob@example.com")
    if case == "used":
        client.force_login(bob)
        client.post(f"/invitations/{raw}")
        client.logout()
    elif case == "revoked":
        Invitation.objects.filter(pk=invitation.pk).update(revoked_at=timezone.now())
    elif case == "expired":
        Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    else:
        raw = raw[:-2] + "xx"
    response = client.get(f"/invitations/{raw}")
    assert response.status_code == (404 if case == "tampered" else 410)
    words = {"used": b"already been used", "revoked": b"revoked", "expired": b"expired", "tampered": b"not valid"}
    assert words[case] in response.content and b"data-invitation-refused" in response.content
    assert client.post(f"/invitations/{raw}", {"password": "correct-horse-battery-staple"}).status_code in (404, 410)


def test_the_members_tab_shows_roles_with_a_dropdown_for_the_owner_only(client, project, alice, bob):
    Membership.objects.create(organization=project.organization, user=bob, role="admin")
    client.force_login(alice)
    page = client.get(f"/settings?tab=members&project={project.pk}").content.decode()
    assert "data-role-select" in page and "bob@example.com" in page and "data-invite-form" in page
    client.force_login(bob)
    page = client.get(f"/settings?tab=members&project={project.pk}").content.decode()
    assert "data-role-select" not in page and "data-invite-form" in page


def test_the_role_dropdown_posts_through_htmx_and_answers_the_row(client_alice, project, bob):
    Membership.objects.create(organization=project.organization, user=bob, role="viewer")
    url = f"/orgs/{project.organization_id}/members/{bob.pk}/role?project={project.pk}"
    response = client_alice.post(url, {"role": "member"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and f'id="member-{bob.pk}"' in response.content.decode()
    assert "toast" in response["HX-Trigger"]
    assert Membership.objects.get(user=bob, organization=project.organization).role == "member"


def test_a_viewer_sees_no_audit_tab_and_an_admin_sees_the_entries(client, project, alice, bob):
    invite(project, alice)
    membership = Membership.objects.create(organization=project.organization, user=bob, role="viewer")
    client.force_login(bob)
    assert b"Audit log" not in client.get(f"/settings?project={project.pk}").content
    membership.role = "admin"
    membership.save()
    page = client.get(f"/settings?tab=audit&project={project.pk}").content.decode()
    assert 'data-audit-action="member.invited"' in page and "alice@example.com" in page
    page = client.get(f"/settings?tab=audit&project={project.pk}&action=project.deleted").content.decode()
    assert "data-audit-action=" not in page


def test_the_invite_form_shows_the_link_once(client_alice, project, mailoutbox):
    url = f"/orgs/{project.organization_id}/invitations?project={project.pk}"
    response = client_alice.post(url, {"email": "dan@example.com", "role": "viewer"})
    link = response.content.decode().split('id="invitation-link">')[1].split("<")[0]
    assert "/invitations/" in link
    assert link not in client_alice.get(f"/settings?tab=members&project={project.pk}").content.decode()


def test_a_page_refused_for_the_role_says_which_role_it_needs(client, project, bob):
    Membership.objects.create(organization=project.organization, user=bob, role="viewer")
    client.force_login(bob)
    response = client.get(f"/tests/new?project={project.pk}")
    assert response.status_code == 403
    assert b"data-forbidden" in response.content and b"needs the member role" in response.content


def test_the_owner_deletes_the_org_after_typing_its_name(client_alice, project):
    url = f"/orgs/{project.organization_id}/delete"
    client_alice.post(url, {"confirm_name": "wrong"})
    assert type(project).objects.filter(pk=project.pk).exists()
    assert client_alice.post(url, {"confirm_name": project.organization.name}).status_code == 302
    assert not type(project).objects.filter(pk=project.pk).exists()
