import hashlib

import pytest

from apps.orgs.services import personal_org
from apps.projects.models import ApiKey, Project
from apps.projects.services import api_key_create, project_create

pytestmark = pytest.mark.django_db


class TestProjectList:
    def test_it_lists_only_my_projects(self, api, project, bob_project):
        response = api.get("/api/projects")
        assert response.status_code == 200
        body = response.json()
        assert [p["id"] for p in body["results"]] == [str(project.id)]
        assert body["next"] is None and body["previous"] is None

    def test_it_paginates(self, api, alice):
        org = personal_org(user=alice)
        Project.objects.bulk_create(Project(organization=org, user=alice, name=f"p{i}") for i in range(5))
        body = api.get("/api/projects/?page_size=2").json()
        assert len(body["results"]) == 2
        assert "page=2" in body["next"]

    def test_page_size_is_capped(self, api, alice):
        org = personal_org(user=alice)
        Project.objects.bulk_create(Project(organization=org, user=alice, name=f"p{i}") for i in range(205))
        assert len(api.get("/api/projects?page_size=1000").json()["results"]) == 200

    def test_it_creates(self, api, alice):
        response = api.post("/api/projects", {"name": "New", "description": "d"}, format="json")
        assert response.status_code == 201
        assert Project.objects.get(pk=response.json()["id"]).user == alice

    def test_create_names_the_bad_field(self, api):
        response = api.post("/api/projects", {"name": ""}, format="json")
        assert response.status_code == 400
        assert set(response.json()) == {"detail", "errors"}
        assert "name" in response.json()["errors"]

    def test_it_requires_login(self, anon_api):
        assert anon_api.get("/api/projects").status_code == 401
        assert anon_api.post("/api/projects", {"name": "x"}, format="json").status_code == 401


class TestProjectDetail:
    def test_it_works(self, api, project):
        assert api.get(f"/api/projects/{project.id}").json()["name"] == project.name

    def test_it_updates(self, api, project):
        response = api.patch(f"/api/projects/{project.id}/", {"description": "changed"}, format="json")
        assert response.status_code == 200
        project.refresh_from_db()
        assert (project.name, project.description) == ("Alice's agents", "changed")

    def test_an_update_never_moves_it_to_another_organization(self, api, project):
        organization = project.organization_id
        response = api.patch(f"/api/projects/{project.id}", {"organization_id": False, "name": "n"}, format="json")
        assert response.status_code == 200
        project.refresh_from_db()
        assert (project.organization_id, project.name) == (organization, "n")
        schema = api.get("/api/schema/", HTTP_ACCEPT="application/json").json()
        assert (
            "organization_id" not in schema["components"]["schemas"]["PatchedProjectUpdateInputRequest"]["properties"]
        )

    def test_an_organization_id_must_be_a_uuid_string(self, api, project):
        for bad in (False, 0, 12):
            response = api.post("/api/projects", {"name": "x", "organization_id": bad}, format="json")
            assert response.status_code == 400 and "organization_id" in response.json()["errors"], bad

    def test_it_deletes(self, api, project):
        assert api.delete(f"/api/projects/{project.id}").status_code == 204
        assert not Project.objects.filter(pk=project.id).exists()

    def test_it_checks_ownership(self, api, bob_project):
        url = f"/api/projects/{bob_project.id}"
        assert api.get(url).status_code == 404
        assert api.patch(url, {"name": "mine"}, format="json").status_code == 404
        assert api.delete(url).status_code == 404
        assert api.get(f"{url}/stats").status_code == 404
        bob_project.refresh_from_db()
        assert bob_project.name == "Bob's agents"

    def test_it_requires_login(self, anon_api, project):
        assert anon_api.get(f"/api/projects/{project.id}").status_code == 401


class TestApiKeys:
    def test_create_returns_the_full_key_once(self, api, project):
        response = api.post(f"/api/projects/{project.id}/api-keys", {"name": "ci"}, format="json")
        assert response.status_code == 201
        raw = response.json()["key"]
        assert raw.startswith("as_")
        key = ApiKey.objects.get(pk=response.json()["id"])
        assert key.key_hash == hashlib.sha256(raw.encode()).hexdigest()
        assert raw not in key.key_hash and key.key_prefix == raw[: len(key.key_prefix)]
        listed = api.get(f"/api/projects/{project.id}/api-keys/").json()["results"]
        assert [k["key_prefix"] for k in listed] == [key.key_prefix]
        assert "key" not in listed[0] and raw not in str(listed)

    def test_revoke_sets_revoked_at(self, api, project, api_key):
        key, _ = api_key
        assert api.delete(f"/api/projects/{project.id}/api-keys/{key.id}").status_code == 204
        key.refresh_from_db()
        assert key.revoked_at is not None
        assert ApiKey.objects.filter(pk=key.id).exists()

    def test_it_checks_ownership(self, api, bob_project):
        bob_key, _ = api_key_create(project=bob_project, name="bob")
        base = f"/api/projects/{bob_project.id}/api-keys"
        assert api.get(base).status_code == 404
        assert api.post(base, {"name": "x"}, format="json").status_code == 404
        assert api.delete(f"{base}/{bob_key.id}").status_code == 404
        bob_key.refresh_from_db()
        assert bob_key.revoked_at is None

    def test_a_key_cannot_be_revoked_through_another_project(self, api, alice, project, bob_project):
        other = project_create(user=alice, name="second")
        key, _ = api_key_create(project=other)
        assert api.delete(f"/api/projects/{project.id}/api-keys/{key.id}").status_code == 404

    def test_it_requires_login(self, anon_api, project):
        assert anon_api.get(f"/api/projects/{project.id}/api-keys").status_code == 401
