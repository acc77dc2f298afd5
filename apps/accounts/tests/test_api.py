import jwt
import pytest
from django.conf import settings

from apps.accounts.models import User
from conftest import PASSWORD

pytestmark = pytest.mark.django_db


def login(anon_api, email="alice@example.com", password=PASSWORD):
    return anon_api.post("/api/auth/login", {"email": email, "password": password}, format="json")


class TestRegister:
    def test_it_creates_the_user_and_their_default_project(self, anon_api):
        response = anon_api.post(
            "/api/auth/register", {"email": "Carol@Example.com", "password": PASSWORD, "name": "Carol"}, format="json"
        )
        assert response.status_code == 201
        body = response.json()
        assert body["user"]["email"] == "carol@example.com"
        assert {"access", "refresh", "project"} <= body.keys()
        user = User.objects.get(email="carol@example.com")
        assert user.check_password(PASSWORD)
        assert list(user.projects.values_list("id", flat=True)) == [user.selected_project_id]

    def test_it_runs_the_password_validators(self, anon_api):
        response = anon_api.post("/api/auth/register", {"email": "c@example.com", "password": "123"}, format="json")
        assert response.status_code == 400
        assert "password" in response.json()["errors"]
        assert not User.objects.filter(email="c@example.com").exists()

    def test_it_refuses_a_taken_email(self, anon_api, alice):
        response = anon_api.post(
            "/api/auth/register", {"email": "ALICE@example.com", "password": PASSWORD}, format="json"
        )
        assert response.status_code == 400
        assert response.json()["errors"]["email"]

    def test_it_names_a_missing_field(self, anon_api):
        response = anon_api.post("/api/auth/register", {"password": PASSWORD}, format="json")
        assert response.status_code == 400
        assert response.json()["errors"]["email"] == ["This field is required."]

    def test_it_answers_without_trailing_slash_and_with(self, anon_api):
        for path in ("/api/auth/register", "/api/auth/register/"):
            email = f"{len(path)}@example.com"
            assert anon_api.post(path, {"email": email, "password": PASSWORD}, format="json").status_code == 201


class TestLogin:
    def test_it_returns_tokens_and_the_user(self, anon_api, alice):
        response = login(anon_api)
        assert response.status_code == 200
        body = response.json()
        assert body["user"]["id"] == str(alice.id)
        claims = jwt.decode(body["access"], settings.JWT_SECRET, algorithms=[settings.JWT_ALGORITHM])
        assert claims["user_id"] == str(alice.id)
        assert claims["email"] == "alice@example.com"
        assert "exp" in claims

    def test_wrong_password_and_unknown_email_get_the_same_answer(self, anon_api, alice):
        wrong = login(anon_api, password="nope-nope-nope")
        unknown = login(anon_api, email="nobody@example.com")
        assert wrong.status_code == unknown.status_code == 401
        assert wrong.json() == unknown.json()

    def test_it_refuses_an_inactive_user(self, anon_api, alice):
        alice.is_active = False
        alice.save()
        assert login(anon_api).status_code == 401


class TestMe:
    def test_it_works(self, api, alice):
        response = api.get("/api/auth/me")
        assert response.status_code == 200
        assert response.json()["email"] == alice.email

    def test_it_requires_a_token(self, anon_api):
        response = anon_api.get("/api/auth/me")
        assert response.status_code == 401
        assert response.json()["detail"]

    def test_it_refuses_a_bad_token(self, anon_api):
        anon_api.credentials(HTTP_AUTHORIZATION="Bearer not.a.token")
        assert anon_api.get("/api/auth/me").status_code == 401

    def test_it_refuses_an_expired_token(self, anon_api, alice):
        from datetime import timedelta

        from apps.accounts.tokens import AccessToken

        token = AccessToken.for_user(alice)
        token.set_exp(lifetime=-timedelta(seconds=1))
        anon_api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        assert anon_api.get("/api/auth/me").status_code == 401

    def test_session_works_too(self, client_alice):
        assert client_alice.get("/api/auth/me").json()["email"] == "alice@example.com"


class TestLogout:
    def test_the_token_is_refused_everywhere_after_logout(self, anon_api, alice, project):
        access = login(anon_api).json()["access"]
        anon_api.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
        assert anon_api.get("/api/projects").status_code == 200
        assert anon_api.post("/api/auth/logout", {}, format="json").status_code == 204
        for path in (
            "/api/auth/me",
            "/api/projects",
            f"/api/projects/{project.id}",
            f"/api/projects/{project.id}/stats",
        ):
            assert anon_api.get(path).status_code == 401, path
        assert anon_api.post("/api/auth/logout", {}, format="json").status_code == 401

    def test_it_revokes_the_refresh_token_given(self, anon_api, alice):
        from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

        tokens = login(anon_api).json()
        anon_api.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
        anon_api.post("/api/auth/logout", {"refresh": tokens["refresh"]}, format="json")
        assert BlacklistedToken.objects.count() == 2

    def test_other_tokens_of_the_user_still_work(self, anon_api, alice):
        first = login(anon_api).json()["access"]
        second = login(anon_api).json()["access"]
        anon_api.credentials(HTTP_AUTHORIZATION=f"Bearer {first}")
        anon_api.post("/api/auth/logout", {}, format="json")
        anon_api.credentials(HTTP_AUTHORIZATION=f"Bearer {second}")
        assert anon_api.get("/api/auth/me").status_code == 200

    def test_it_requires_a_token(self, anon_api):
        assert anon_api.post("/api/auth/logout", {}, format="json").status_code == 401
