"""A project's retention: set on its Settings page and through /api/projects, by whoever may change its settings."""

import pytest

from apps.projects.models import Project

pytestmark = pytest.mark.django_db


class TestRetentionApi:
    def test_it_shows_the_site_default_until_set(self, api, project, settings):
        settings.RETENTION_DAYS = 90
        body = api.get(f"/api/projects/{project.pk}").json()
        assert (body["retention_days"], body["retention_effective_days"]) == (None, 90)

    def test_it_sets_days_forever_and_back_to_the_default(self, api, project, settings):
        settings.RETENTION_DAYS = None
        for sent, effective in ((30, 30), (0, None), (None, None)):
            response = api.patch(f"/api/projects/{project.pk}", {"retention_days": sent}, format="json")
            assert response.status_code == 200
            assert response.json()["retention_effective_days"] == effective
            project.refresh_from_db()
            assert project.retention_days == sent

    @pytest.mark.parametrize("bad", [-1, 36_501, "30", 1.5, True])
    def test_bad_values_are_a_400_that_names_the_field(self, api, project, bad):
        response = api.patch(f"/api/projects/{project.pk}", {"retention_days": bad}, format="json")
        assert response.status_code == 400
        assert "retention_days" in response.json()["errors"]
        project.refresh_from_db()
        assert project.retention_days is None

    def test_it_is_set_at_creation(self, api):
        response = api.post("/api/projects", {"name": "Short-lived", "retention_days": 7}, format="json")
        assert Project.objects.get(pk=response.json()["id"]).retention_days == 7

    def test_it_checks_ownership(self, api, bob_project):
        response = api.patch(f"/api/projects/{bob_project.pk}", {"retention_days": 1}, format="json")
        assert response.status_code == 404
        bob_project.refresh_from_db()
        assert bob_project.retention_days is None

    def test_it_requires_login(self, anon_api, project):
        assert anon_api.patch(f"/api/projects/{project.pk}", {"retention_days": 1}, format="json").status_code == 401


class TestRetentionPage:
    def test_the_settings_page_shows_it(self, client_alice, project, settings):
        settings.RETENTION_DAYS = 90
        body = client_alice.get("/settings?tab=project").content.decode()
        assert "Data retention" in body and "Site default (90 days)" in body and "Runs are kept 90 days." in body

    def test_it_saves(self, client_alice, project):
        response = client_alice.post(f"/projects/{project.pk}/retention", {"retention_days": "30"})
        assert response.status_code == 302
        project.refresh_from_db()
        assert project.retention_days == 30

    def test_it_saves_forever_over_htmx(self, client_alice, project):
        response = client_alice.post(
            f"/projects/{project.pk}/retention", {"retention_days": "0"}, HTTP_HX_REQUEST="true"
        )
        assert response.status_code == 200 and "Runs are kept forever." in response.content.decode()
        project.refresh_from_db()
        assert project.retention_days == 0

    def test_a_value_not_offered_is_refused(self, client_alice, project):
        response = client_alice.post(f"/projects/{project.pk}/retention", {"retention_days": "3"})
        assert response.status_code == 200 and "field-errors" in response.content.decode()
        project.refresh_from_db()
        assert project.retention_days is None

    def test_it_checks_ownership(self, client_alice, bob_project):
        assert client_alice.post(f"/projects/{bob_project.pk}/retention", {"retention_days": "7"}).status_code == 404

    def test_it_requires_login(self, client, project):
        response = client.post(f"/projects/{project.pk}/retention", {"retention_days": "7"})
        assert response.status_code == 302 and "/login" in response["Location"]
