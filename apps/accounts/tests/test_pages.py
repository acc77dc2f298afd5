import pytest

from conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_login_page_works(client):
    response = client.get("/login")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Welcome back" in body
    assert 'name="email"' in body and 'name="password"' in body
    assert 'href="/register"' in body


def test_login_signs_in_and_goes_to_the_dashboard(client, alice, project):
    response = client.post("/login", {"email": "ALICE@example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/dashboard"
    assert client.get("/dashboard").status_code == 200


def test_login_honours_next(client, alice, project):
    page = client.get("/login?next=/runs")
    assert 'name="next" value="/runs"' in page.content.decode()
    response = client.post("/login", {"email": "alice@example.com", "password": PASSWORD, "next": "/runs"})
    assert response["Location"] == "/runs"


def test_login_refuses_an_offsite_next(client, alice, project):
    response = client.post(
        "/login", {"email": "alice@example.com", "password": PASSWORD, "next": "https://evil.example/x"}
    )
    assert response["Location"] == "/dashboard"


@pytest.mark.parametrize("email,password", [("alice@example.com", "wrong-password"), ("nobody@example.com", PASSWORD)])
def test_login_says_the_same_for_unknown_email_and_wrong_password(client, alice, email, password):
    response = client.post("/login", {"email": email, "password": password})
    assert response.status_code == 200
    assert "Invalid email or password." in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_login_shows_field_errors(client):
    response = client.post("/login", {"email": "not-an-email", "password": ""})
    body = response.content.decode()
    assert "Enter a valid email address." in body
    assert "This field is required." in body


def test_signed_in_user_skips_the_login_page(client_alice, project):
    assert client_alice.get("/login")["Location"] == "/dashboard"


def test_logout_is_post_only_and_signs_out(client_alice, project):
    assert client_alice.get("/logout").status_code == 405
    response = client_alice.post("/logout")
    assert response["Location"] == "/login"
    assert client_alice.get("/dashboard")["Location"] == "/login?next=/dashboard"
    assert "You are signed out." in client_alice.get("/login").content.decode()


def test_home_sends_signed_in_users_to_the_dashboard(client_alice, project):
    assert client_alice.get("/")["Location"] == "/dashboard"


def test_home_sends_anonymous_users_to_login(client):
    assert client.get("/")["Location"] == "/login"
