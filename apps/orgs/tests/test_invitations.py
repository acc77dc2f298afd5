from datetime import timedelta

import pytest
from django.utils import timezone

from apps.orgs.models import Invitation, Membership
from apps.orgs.tests.conftest import api_as

pytestmark = pytest.mark.django_db


def invite(api, org, email="dan@example.com", role="viewer"):
    response = api.post(f"/api/orgs/{org.pk}/invitations", {"email": email, "role": role}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_an_invitation_shows_its_token_once_keeps_its_hash_and_lasts_7_days(
    api, org, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # the email leaves once the invitation is stored
        body = invite(api, org)
    invitation = Invitation.objects.get(pk=body["id"])
    assert invitation.token_hash == Invitation.hash(body["token"]) != body["token"]
    assert body["url"].endswith(f"/invitations/{body['token']}")
    assert timedelta(days=6, hours=23) < invitation.expires_at - timezone.now() <= timedelta(days=7)
    listed = api.get(f"/api/orgs/{org.pk}/invitations").json()["results"]
    assert [item["email"] for item in listed] == ["dan@example.com"] and "token" not in listed[0]
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["dan@example.com"]
    assert body["url"] in mailoutbox[0].body


def test_accepting_joins_with_the_role_once(org, mailoutbox, django_user_model):
    body = invite(api_as(org.memberships.get().user), org)
    dan = django_user_model.objects.create_user(email="dan@example.com", password="x")
    dan_api = api_as(dan)
    response = dan_api.post("/api/invitations/accept", {"token": body["token"]}, format="json")
    assert response.status_code == 200 and response.json()["role"] == "viewer"
    again = dan_api.post("/api/invitations/accept", {"token": body["token"]}, format="json")
    assert again.status_code == 410 and "already been used" in again.json()["detail"]
    assert Membership.objects.filter(organization=org, user=dan).count() == 1


def test_a_revoked_or_expired_or_tampered_token_is_refused_clearly(api, org, django_user_model):
    dan = api_as(django_user_model.objects.create_user(email="dan@example.com", password="x"))
    revoked = invite(api, org)
    assert api.delete(f"/api/orgs/{org.pk}/invitations/{revoked['id']}").status_code == 204
    response = dan.post("/api/invitations/accept", {"token": revoked["token"]}, format="json")
    assert response.status_code == 410 and "revoked" in response.json()["detail"]

    expired = invite(api, org)
    Invitation.objects.filter(pk=expired["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = dan.post("/api/invitations/accept", {"token": expired["token"]}, format="json")
    assert response.status_code == 410 and "expired" in response.json()["detail"]

    good = invite(api, org)
    tampered = good["token"][:-1] + ("A" if good["token"][-1] != "A" else "B")
    response = dan.post("/api/invitations/accept", {"token": tampered}, format="json")
    assert response.status_code == 404 and "not valid" in response.json()["detail"]
    assert not Membership.objects.filter(organization=org, user__email="dan@example.com").exists()


def test_an_invitation_is_for_its_email_only(api, org, bob):
    body = invite(api, org)
    response = api_as(bob).post("/api/invitations/accept", {"token": body["token"]}, format="json")
    assert response.status_code == 403 and "dan@example.com" in response.json()["detail"]


def test_resending_makes_a_new_link_and_the_old_one_stops_working(
    api, org, django_user_model, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        body = invite(api, org)
        resent = api.post(f"/api/orgs/{org.pk}/invitations/{body['id']}/resend").json()
    assert resent["token"] != body["token"] and len(mailoutbox) == 2
    dan = api_as(django_user_model.objects.create_user(email="dan@example.com", password="x"))
    assert dan.post("/api/invitations/accept", {"token": body["token"]}, format="json").status_code == 404
    assert dan.post("/api/invitations/accept", {"token": resent["token"]}, format="json").status_code == 200


def test_only_an_owner_invites_an_owner(org, team):
    response = api_as(team["admin"]).post(
        f"/api/orgs/{org.pk}/invitations", {"email": "x@example.com", "role": "owner"}, format="json"
    )
    assert response.status_code == 400 and "role" in response.json()["errors"]


def test_a_member_cant_invite(org, team):
    response = api_as(team["member"]).post(
        f"/api/orgs/{org.pk}/invitations", {"email": "x@example.com", "role": "viewer"}, format="json"
    )
    assert response.status_code == 403 and "needs the admin role" in response.json()["detail"]


def test_the_audit_log_api_filters_and_pages(api, org):
    for n in range(3):
        invite(api, org, email=f"p{n}@example.com")
    body = api.get(f"/api/orgs/{org.pk}/audit-log?action=member.invited&page_size=2").json()
    assert len(body["results"]) == 2 and body["next"]
    assert {entry["actor_label"] for entry in body["results"]} == {"alice@example.com"}
    assert api.get(f"/api/orgs/{org.pk}/audit-log?actor=nobody").json()["results"] == []


def test_a_mail_server_that_fails_is_logged_and_the_invitation_stands(
    api, org, settings, django_capture_on_commit_callbacks, caplog
):
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 1},
        }
    }
    with django_capture_on_commit_callbacks(execute=True):
        body = invite(api, org)  # 201 with the link to share, though nothing could be sent
    assert Invitation.objects.filter(pk=body["id"]).exists() and body["url"].endswith(body["token"])
    assert any("on_commit" in record.getMessage() or record.exc_info for record in caplog.records)
