"""A new organization from the UI (with its first project, through the service `POST /api/orgs` uses),
and organizations with no project in the sidebar's switcher and on the New project page."""

import pytest

from apps.orgs.audit import Actor
from apps.orgs.models import AuditEntry, Membership, Organization
from apps.orgs.services import org_create
from apps.projects.models import Project
from apps.projects.services import org_create_with_project, project_create, project_delete

pytestmark = pytest.mark.django_db


def test_the_service_makes_the_org_owned_with_its_first_project_selected(alice):
    project = org_create_with_project(user=alice, name="Acme", project_name="Support bot", actor=Actor(user=alice))
    organization = project.organization
    assert organization.name == "Acme" and project.name == "Support bot" and project.user_id == alice.pk
    assert Membership.objects.get(organization=organization).user_id == alice.pk
    assert Membership.objects.get(organization=organization).role == "owner"
    alice.refresh_from_db()
    assert alice.selected_project_id == project.pk
    assert set(AuditEntry.objects.filter(organization=organization).values_list("action", flat=True)) == {
        "org.created",
        "project.created",
    }


def test_the_first_project_is_named_default_project_unless_told(alice):
    assert org_create_with_project(user=alice, name="Acme").name == "Default project"


def test_the_page_is_in_the_switcher_and_its_form_asks_both_names(client_alice, project):
    dashboard = client_alice.get("/dashboard").content.decode()
    assert 'href="/orgs/new"' in dashboard and "New organization" in dashboard
    page = client_alice.get("/orgs/new").content.decode()
    assert 'name="name"' in page and 'name="project_name"' in page and 'value="Default project"' in page


def test_posting_the_form_creates_the_org_and_lands_on_its_project(client_alice, alice, project):
    response = client_alice.post("/orgs/new", {"name": "  Acme  ", "project_name": "Support bot"})
    assert response.status_code == 302 and response["Location"] == "/dashboard"
    organization = Organization.objects.get(name="Acme")
    created = Project.objects.get(organization=organization)
    assert created.name == "Support bot"
    assert Membership.objects.get(organization=organization, user=alice).role == "owner"
    dashboard = client_alice.get("/dashboard").content.decode()
    assert f'<option value="{created.pk}" selected>Support bot</option>' in dashboard
    assert '<optgroup label="Acme">' in dashboard


@pytest.mark.parametrize(
    "data,field,message",
    [
        ({"name": "   ", "project_name": "P"}, "name", "An organization needs a name."),
        ({"name": "Acme", "project_name": "  "}, "project_name", "The first project needs a name."),
        ({"name": "A" * 256, "project_name": "P"}, "name", "at most 255 characters"),
    ],
)
def test_bad_input_is_shown_in_the_form_and_nothing_is_made(client_alice, alice, project, data, field, message):
    before = (Organization.objects.count(), Project.objects.count())
    response = client_alice.post("/orgs/new", data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert f'id="id_{field}_error"' in response.content.decode()
    assert (Organization.objects.count(), Project.objects.count()) == before


def test_signed_out_visitors_are_sent_to_sign_in(client):
    assert client.get("/orgs/new")["Location"] == "/login?next=/orgs/new"
    response = client.post("/orgs/new", {"name": "Acme", "project_name": "P"})
    assert response.status_code == 302 and "/login" in response["Location"]
    assert not Organization.objects.filter(name="Acme").exists()


def test_an_org_without_projects_shows_in_the_switcher_with_a_link_for_admins(client_alice, alice, project):
    empty = org_create(user=alice, name="Empty co")  # as POST /api/orgs makes it: no project
    page = client_alice.get("/dashboard").content.decode()
    assert "Empty co" in page
    assert f'href="/projects/new?organization={empty.pk}">Create its first project</a>' in page


def test_an_org_whose_last_project_was_deleted_still_shows(client_alice, alice, project):
    other = org_create_with_project(user=alice, name="Short lived", project_name="Only one")
    project_delete(project=other)
    page = client_alice.get("/dashboard").content.decode()
    assert "Short lived" in page and f"/projects/new?organization={other.organization_id}" in page


def test_a_viewer_sees_a_note_not_the_link(client, alice, bob, project):
    empty = org_create(user=alice, name="Empty co")
    Membership.objects.create(organization=empty, user=bob, role="viewer")
    client.force_login(bob)
    page = client.get("/dashboard").content.decode()
    assert "Empty co" in page and "No projects yet; an admin can create one." in page
    assert f"organization={empty.pk}" not in page


def test_the_new_project_page_creates_in_the_org_asked(client_alice, alice, project):
    empty = org_create(user=alice, name="Empty co")
    page = client_alice.get(f"/projects/new?organization={empty.pk}").content.decode()
    assert "<strong>Empty co</strong>" in page and f'action="/projects/new?organization={empty.pk}"' in page
    response = client_alice.post(f"/projects/new?organization={empty.pk}", {"name": "First one"})
    assert response.status_code == 302
    created = Project.objects.get(name="First one")
    assert created.organization_id == empty.pk
    alice.refresh_from_db()
    assert alice.selected_project_id == created.pk
    assert "switcher-empty" not in client_alice.get("/dashboard").content.decode()  # it has a project now


@pytest.mark.parametrize("role,status", [("viewer", 403), ("member", 403), ("admin", 302), ("owner", 302)])
def test_the_org_asked_needs_a_role_that_creates_projects(client, alice, bob, role, status):
    empty = org_create(user=alice, name="Empty co")
    Membership.objects.create(organization=empty, user=bob, role=role)
    client.force_login(bob)
    response = client.post(f"/projects/new?organization={empty.pk}", {"name": "Theirs"})
    assert response.status_code == status
    assert Project.objects.filter(organization=empty).exists() == (status == 302)


@pytest.mark.parametrize("asked", ["outsider", "not-a-uuid"])
def test_an_org_asked_from_outside_is_a_404(client, alice, bob, asked):
    theirs = org_create(user=alice, name="Alice's team")
    project_create(user=bob, name="Bob's")
    client.force_login(bob)
    value = theirs.pk if asked == "outsider" else "nope"
    assert client.get(f"/projects/new?organization={value}").status_code == 404
    assert client.post(f"/projects/new?organization={value}", {"name": "Sneaky"}).status_code == 404
    assert not Project.objects.filter(name="Sneaky").exists()
