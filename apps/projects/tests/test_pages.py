import hashlib
import re

import pytest

from apps.accounts.models import User
from apps.projects.models import ApiKey, Project
from apps.projects.services import api_key_create, project_create

PAGES = [
    "/dashboard",
    "/runs",
    "/tests",
    "/mcp",
    "/breakpoints",
    "/settings",
    "/settings?tab=api-keys",
    "/projects/new",
]

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------- shell and placeholder pages


@pytest.mark.parametrize("url", PAGES)
def test_pages_work(client_alice, project, url):
    response = client_alice.get(url)
    assert response.status_code == 200
    body = response.content.decode()
    assert "AgentScope" in body
    assert f'<option value="{project.pk}" selected>' in body
    assert 'hx-headers=\'{"X-CSRFToken": "' in body
    assert "/static/django_htmx/htmx-2.min.js" in body


@pytest.mark.parametrize("url", PAGES)
def test_pages_require_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/login?next={url.split('?')[0]}" or response["Location"].startswith(
        "/login?next=/settings"
    )


@pytest.mark.parametrize(
    "url,active",
    [
        ("/dashboard", "Dashboard"),
        ("/runs", "Runs"),
        ("/tests", "Tests"),
        ("/mcp", "MCP Inspector"),
        ("/settings", "Settings"),
    ],
)
def test_the_sidebar_marks_the_current_page(client_alice, project, url, active):
    body = client_alice.get(url).content.decode()
    assert body.count('aria-current="page"') >= 1
    current = body.split('aria-current="page">', 1)[1]
    assert current.split("</a>", 1)[0].endswith(active)


def test_pages_answer_with_and_without_trailing_slash(client_alice, project):
    assert client_alice.get("/runs/").status_code == 200


def test_the_switcher_lists_only_my_projects(client_alice, project, bob_project):
    other = project_create(user=project.user, name="Staging agents")
    body = client_alice.get("/runs").content.decode()
    assert "Staging agents" in body and str(other.pk) in body
    assert "Bob&#x27;s agents" not in body and str(bob_project.pk) not in body


def test_switching_project_selects_and_remembers_it(client_alice, alice, project):
    other = project_create(user=alice, name="Staging agents")
    body = client_alice.get(f"/runs?project={other.pk}").content.decode()
    assert f'<option value="{other.pk}" selected>' in body
    alice.refresh_from_db()
    assert alice.selected_project_id == other.pk
    assert f'<option value="{other.pk}" selected>' in client_alice.get("/dashboard").content.decode()


def test_dashboard_shows_stats_and_how_to_send_a_run(client_alice, project):
    body = client_alice.get("/dashboard").content.decode()
    for label in ("Total runs", "Failed runs", "Avg latency", "Test pass rate"):
        assert label in body
    assert "No runs in the last 7 days" in body
    text = re.sub(r"<[^>]+>", "", body)  # the snippets are syntax-coloured spans
    assert "pip install ./sdk" in text
    assert "from agentscope_sdk import Client" in text
    assert 'client = Client(api_key="as_...", base_url="http://testserver")' in text
    assert 'with client.run("my-agent", input=' in text
    assert 'href="/settings?tab=api-keys"' in body


def test_dashboard_without_a_project_offers_to_create_one(client_alice):
    body = client_alice.get("/dashboard").content.decode()
    assert "Create a project to get started" in body
    assert 'href="/projects/new"' in body


def test_dashboard_htmx_renders_only_the_stats(client_alice, project):
    response = client_alice.get("/dashboard", headers={"HX-Request": "true", "HX-Target": "dashboard-stats"})
    body = response.content.decode()
    assert 'id="dashboard-stats"' in body
    assert "<html" not in body and "sidebar" not in body


def test_not_found_page_looks_like_the_product(client_alice, project, settings):
    settings.DEBUG = False
    response = client_alice.get("/no/such/page")
    assert response.status_code == 404
    body = response.content.decode()
    assert "We couldn't find that page" in body and "sidebar" in body


def test_not_found_page_for_anonymous_users(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert 'href="/login"' in response.content.decode()


# ---------------------------------------------------------------- register


def test_register_page_works(client):
    body = client.get("/register").content.decode()
    assert "Create your account" in body and 'href="/login"' in body


def test_register_creates_the_default_project_and_signs_in(client):
    response = client.post("/register", {"name": "Carol", "email": "carol@example.com", "password": "tr1cky-Passw0rd"})
    assert response.status_code == 302
    assert response["Location"] == "/dashboard"
    carol = User.objects.get(email="carol@example.com")
    project = Project.objects.get(user=carol)
    assert project.name == "Default project"
    assert carol.selected_project_id == project.pk
    assert client.session["_auth_user_id"] == str(carol.pk)
    body = client.get("/dashboard").content.decode()
    assert f'<option value="{project.pk}" selected>Default project</option>' in body
    assert "Welcome to AgentScope" in body


def test_register_shows_password_validator_errors(client):
    response = client.post("/register", {"email": "dave@example.com", "password": "1234"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "This password is too short." in body
    assert "This password is entirely numeric." in body
    assert not User.objects.filter(email="dave@example.com").exists()
    assert 'value="dave@example.com"' in body


def test_register_refuses_a_taken_email(client, alice):
    response = client.post("/register", {"email": "Alice@Example.com", "password": "tr1cky-Passw0rd"})
    assert "An account with this email exists." in response.content.decode()
    assert User.objects.count() == 1


# ---------------------------------------------------------------- new project


def test_new_project_creates_and_selects_it(client_alice, alice, project):
    response = client_alice.post("/projects/new", {"name": "  Research bots ", "description": ""})
    assert response["Location"] == "/dashboard"
    created = Project.objects.get(user=alice, name="Research bots")
    alice.refresh_from_db()
    assert alice.selected_project_id == created.pk
    assert created.description is None


def test_new_project_needs_a_name(client_alice, project):
    body = client_alice.post("/projects/new", {"name": "   "}).content.decode()
    assert "This field is required." in body or "A project needs a name." in body
    assert Project.objects.count() == 1


# ---------------------------------------------------------------- settings: project tab


def test_settings_project_tab(client_alice, project):
    body = client_alice.get("/settings").content.decode()
    assert 'value="Alice&#x27;s agents"' in body
    assert "Support bots" in body
    assert str(project.pk) in body
    assert f'action="/projects/{project.pk}/delete"' in body


def test_settings_htmx_tab_renders_only_the_partial(client_alice, project, api_key):
    response = client_alice.get("/settings?tab=api-keys", headers={"HX-Request": "true", "HX-Target": "settings"})
    body = response.content.decode()
    assert "<html" not in body and 'class="sidebar"' not in body
    assert api_key[0].key_prefix in body
    assert response["Vary"].count("HX-Request") == 1


def test_settings_without_a_project(client_alice):
    body = client_alice.get("/settings").content.decode()
    assert "No project yet" in body and 'href="/projects/new"' in body


def test_project_update_saves(client_alice, project):
    response = client_alice.post(f"/projects/{project.pk}/edit", {"name": "Renamed", "description": "New words"})
    assert response.status_code == 302
    assert response["Location"] == f"/settings?tab=project&project={project.pk}"
    project.refresh_from_db()
    assert (project.name, project.description) == ("Renamed", "New words")
    assert "Project saved." in client_alice.get(response["Location"]).content.decode()


def test_project_update_over_htmx_answers_with_the_partial_and_a_toast(client_alice, project):
    response = client_alice.post(
        f"/projects/{project.pk}/edit",
        {"name": "Renamed", "description": ""},
        headers={"HX-Request": "true", "HX-Target": "settings"},
    )
    assert response.status_code == 200
    assert response["HX-Trigger"] == '{"toast": {"level": "success", "message": "Project saved."}}'
    body = response.content.decode()
    assert 'id="project-switcher" hx-swap-oob="true"' in body
    assert ">Renamed</option>" in body


def test_project_update_shows_errors(client_alice, project):
    response = client_alice.post(f"/projects/{project.pk}/edit", {"name": "", "description": "x"})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    project.refresh_from_db()
    assert project.name == "Alice's agents"


def test_project_update_checks_ownership(client_alice, bob_project):
    response = client_alice.post(f"/projects/{bob_project.pk}/edit", {"name": "Mine now"})
    assert response.status_code == 404
    bob_project.refresh_from_db()
    assert bob_project.name == "Bob's agents"


def test_project_delete_needs_the_exact_name(client_alice, project):
    response = client_alice.post(f"/projects/{project.pk}/delete", {"confirm_name": "alice's agents"})
    assert response.status_code == 302
    assert Project.objects.filter(pk=project.pk).exists()
    assert "Type the project name exactly" in client_alice.get(response["Location"]).content.decode()


def test_project_delete_goes_to_another_project(client_alice, alice, project):
    other = project_create(user=alice, name="Second")
    response = client_alice.post(f"/projects/{project.pk}/delete", {"confirm_name": "Alice's agents"})
    assert response["Location"] == "/dashboard"
    assert not Project.objects.filter(pk=project.pk).exists()
    body = client_alice.get("/dashboard").content.decode()
    assert f'<option value="{other.pk}" selected>Second</option>' in body
    assert "Project “Alice&#x27;s agents” deleted." in body


def test_deleting_the_last_project_leaves_an_empty_dashboard(client_alice, project):
    client_alice.post(f"/projects/{project.pk}/delete", {"confirm_name": "Alice's agents"})
    body = client_alice.get("/dashboard").content.decode()
    assert "Create a project to get started" in body
    assert Project.objects.count() == 0


def test_project_delete_checks_ownership(client_alice, bob_project):
    response = client_alice.post(f"/projects/{bob_project.pk}/delete", {"confirm_name": "Bob's agents"})
    assert response.status_code == 404
    assert Project.objects.filter(pk=bob_project.pk).exists()


def test_project_actions_require_login(client, project):
    for url in (f"/projects/{project.pk}/edit", f"/projects/{project.pk}/delete", f"/projects/{project.pk}/api-keys"):
        response = client.post(url, {"name": "x", "confirm_name": project.name})
        assert response.status_code == 302 and response["Location"].startswith("/login?next=")
    assert Project.objects.get(pk=project.pk).name == project.name
    assert not ApiKey.objects.exists()


# ---------------------------------------------------------------- settings: API keys tab


def test_api_keys_tab_lists_keys(client_alice, project, api_key):
    revoked, _ = api_key_create(project=project, name="old")
    client_alice.post(f"/projects/{project.pk}/api-keys/{revoked.pk}/revoke")
    body = client_alice.get("/settings?tab=api-keys").content.decode()
    assert f"{api_key[0].key_prefix}…" in body
    assert ">ci<" in body
    assert "Never" in body
    assert "Active" in body and "Revoked" in body
    assert api_key[1] not in body


def test_api_key_create_shows_the_full_key_once(client_alice, project):
    response = client_alice.post(f"/projects/{project.pk}/api-keys", {"name": "production"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    body = response.content.decode()
    raw = body.split('<code id="new-api-key">', 1)[1].split("</code>", 1)[0]
    assert raw.startswith("as_")
    key = ApiKey.objects.get(project=project, name="production")
    assert key.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert "won't be shown again" in body
    later = client_alice.get("/settings?tab=api-keys").content.decode()
    assert raw not in later
    assert f"{key.key_prefix}…" in later


def test_api_key_create_over_htmx_answers_with_the_partial(client_alice, project):
    response = client_alice.post(
        f"/projects/{project.pk}/api-keys", {"name": ""}, headers={"HX-Request": "true", "HX-Target": "settings"}
    )
    body = response.content.decode()
    assert "<html" not in body
    assert 'id="new-key-dialog"' in body and "data-autoshow" in body
    assert ApiKey.objects.get(project=project).name is None


def test_api_key_create_checks_ownership(client_alice, bob_project):
    response = client_alice.post(f"/projects/{bob_project.pk}/api-keys", {"name": "sneaky"})
    assert response.status_code == 404
    assert not ApiKey.objects.exists()


def test_api_key_revoke(client_alice, project, api_key):
    key, _ = api_key
    response = client_alice.post(f"/projects/{project.pk}/api-keys/{key.pk}/revoke")
    assert response["Location"] == f"/settings?tab=api-keys&project={project.pk}"
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_api_key_revoke_over_htmx_toasts(client_alice, project, api_key):
    key, _ = api_key
    response = client_alice.post(
        f"/projects/{project.pk}/api-keys/{key.pk}/revoke", headers={"HX-Request": "true", "HX-Target": "settings"}
    )
    assert "revoked" in response["HX-Trigger"]
    assert "Revoked" in response.content.decode()


def test_api_key_revoke_checks_ownership(client, bob, project, api_key, bob_project):
    client.force_login(bob)
    key, _ = api_key
    assert client.post(f"/projects/{project.pk}/api-keys/{key.pk}/revoke").status_code == 404
    # bob's own project id with alice's key id is no way round it either
    assert client.post(f"/projects/{bob_project.pk}/api-keys/{key.pk}/revoke").status_code == 404
    key.refresh_from_db()
    assert key.revoked_at is None


def test_api_key_revoke_is_post_only(client_alice, project, api_key):
    assert client_alice.get(f"/projects/{project.pk}/api-keys/{api_key[0].pk}/revoke").status_code == 405
