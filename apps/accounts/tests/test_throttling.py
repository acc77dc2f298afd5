"""Sign-in and sign-up limits: per account and per client IP, the same counters for the pages and the
API, and no way around them with a forged X-Forwarded-For."""

import time

import pytest
from rest_framework.test import APIClient

from apps.accounts.models import User
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

# Day-long windows: a test never straddles two of them (a window that turned mid-test would reset the count).
RATES = {"login_account": "3/day", "login_ip": "5/day", "register_ip": "2/day"}


@pytest.fixture(autouse=True)
def rates(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], **RATES},
    }


def api_login(email="alice@example.com", password="wrong-password", **extra):
    return APIClient().post("/api/auth/login", {"email": email, "password": password}, format="json", **extra)


def page_login(client, email="alice@example.com", password="wrong-password", **extra):
    return client.post("/login", {"email": email, "password": password}, **extra)


class TestLoginApi:
    def test_an_account_gets_a_few_attempts_from_any_number_of_addresses(self, alice):
        for n in range(3):
            assert api_login(REMOTE_ADDR=f"10.0.0.{n}").status_code == 401
        response = api_login(REMOTE_ADDR="10.0.0.9")
        assert response.status_code == 429
        assert 0 < int(response["Retry-After"]) <= 86400
        assert response.json() == {"detail": response.json()["detail"], "errors": {}}
        assert response.json()["detail"].startswith("Request was throttled.")

    def test_the_right_password_after_the_limit_still_waits(self, alice):
        for _ in range(3):
            api_login()
        response = api_login(password=PASSWORD, REMOTE_ADDR="10.0.0.7")
        assert response.status_code == 429
        assert "access" not in response.json()

    def test_the_account_is_counted_however_the_email_is_written(self, alice):
        for email in ("alice@example.com", "ALICE@example.com", " Alice@Example.com "):
            api_login(email=email)
        assert api_login().status_code == 429

    def test_an_address_gets_a_few_attempts_whatever_the_accounts(self, alice):
        for n in range(5):
            assert api_login(email=f"user{n}@example.com").status_code == 401
        assert api_login(email="someone-else@example.com").status_code == 429
        assert api_login(email="someone-else@example.com", REMOTE_ADDR="10.0.0.1").status_code == 401

    def test_a_forged_forwarded_for_changes_nothing(self, alice):
        answers = [
            api_login(email=f"user{n}@example.com", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code for n in range(7)
        ]
        assert answers == [401] * 5 + [429] * 2


class TestLoginPage:
    def test_an_account_gets_a_few_attempts_then_a_clear_429(self, client, alice):
        for n in range(3):
            assert page_login(client, REMOTE_ADDR=f"10.0.0.{n}").status_code == 200
        response = page_login(client, password=PASSWORD, REMOTE_ADDR="10.0.0.9")
        assert response.status_code == 429
        assert 0 < int(response["Retry-After"]) <= 86400
        body = response.content.decode()
        assert "Too many sign-in attempts. Try again in " in body
        assert 'name="email"' in body and "alice@example.com" in body
        assert "_auth_user_id" not in client.session

    def test_an_address_gets_a_few_attempts_whatever_the_accounts(self, client, alice):
        for n in range(5):
            assert page_login(client, email=f"user{n}@example.com").status_code == 200
        assert page_login(client, email="bob@example.com").status_code == 429
        assert page_login(client, email="bob@example.com", HTTP_X_FORWARDED_FOR="198.51.100.7").status_code == 429

    def test_showing_the_page_is_not_an_attempt(self, client, alice):
        for _ in range(10):
            assert client.get("/login").status_code == 200
        assert page_login(client, password=PASSWORD).status_code == 302

    def test_the_page_and_the_api_share_the_counters(self, client, alice):
        api_login()
        page_login(client)
        api_login()
        assert page_login(client, password=PASSWORD).status_code == 429
        assert api_login(password=PASSWORD).status_code == 429

    def test_the_limit_is_per_window(self, client, alice, settings):
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "login_account": "1/sec"},
        }
        page_login(client)
        response = page_login(client)
        assert response.status_code == 429
        assert response["Retry-After"] == "1"
        time.sleep(1.05)
        assert page_login(client, password=PASSWORD).status_code == 302


class TestRegistration:
    def test_the_api_takes_a_few_sign_ups_an_address(self):
        client = APIClient()
        answers = [
            client.post(
                "/api/auth/register",
                {"email": f"new{n}@example.com", "password": PASSWORD},
                format="json",
                HTTP_X_FORWARDED_FOR=f"203.0.113.{n}",
            ).status_code
            for n in range(3)
        ]
        assert answers == [201, 201, 429]
        assert User.objects.count() == 2

    def test_the_page_takes_a_few_sign_ups_an_address(self, client):
        for n in range(2):
            response = client.post("/register", {"email": f"new{n}@example.com", "password": PASSWORD})
            assert response.status_code == 302
            client.post("/logout")
        response = client.post("/register", {"email": "new9@example.com", "password": PASSWORD})
        assert response.status_code == 429
        assert int(response["Retry-After"]) > 0
        assert "Too many sign-ups from your network. Try again in " in response.content.decode()
        assert not User.objects.filter(email="new9@example.com").exists()

    def test_another_address_still_signs_up(self):
        client = APIClient()
        for n in range(2):
            client.post("/api/auth/register", {"email": f"new{n}@example.com", "password": PASSWORD}, format="json")
        response = client.post(
            "/api/auth/register",
            {"email": "new9@example.com", "password": PASSWORD},
            format="json",
            REMOTE_ADDR="10.1.1.1",
        )
        assert response.status_code == 201
