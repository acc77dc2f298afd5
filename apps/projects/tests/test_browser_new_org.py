"""In real Chromium: a new organization made from the sidebar's switcher, landed on with its first project
selected; then, its last project deleted, it stays in the switcher with a link to create another."""

import re

import pytest

from apps.orgs.models import Membership, Organization
from apps.projects.services import project_delete

pytestmark = pytest.mark.browser


def test_create_an_organization_from_the_switcher_and_see_it_selected(page, live_server, client, alice, project):
    client.force_login(alice)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page.goto("/runs")
    page.locator("#project-switcher").get_by_role("link", name="New organization").click()
    page.wait_for_url(re.compile(r"/orgs/new$"))
    assert page.get_by_label("First project").input_value() == "Default project"

    page.get_by_role("button", name="Create organization").click()  # no name: the form says so
    assert page.get_by_text("An organization needs a name.").is_visible()
    assert not Organization.objects.filter(memberships__user=alice).exclude(pk=project.organization_id).exists()

    page.get_by_label("Organization name").fill("Acme support")
    page.get_by_label("First project").fill("Refund bot")
    page.get_by_role("button", name="Create organization").click()
    page.wait_for_url(re.compile(r"/dashboard$"))
    selected = page.locator("#project-select option:checked")
    assert selected.inner_text() == "Refund bot"
    assert selected.evaluate("option => option.parentElement.label") == "Acme support"
    assert page.locator("#project-crumb").inner_text() == "Refund bot"
    organization = Organization.objects.get(name="Acme support")
    assert Membership.objects.get(organization=organization, user=alice).role == "owner"

    # Its last project gone, the organization stays in the switcher, with a link to create its first project.
    project_delete(project=organization.projects.get())
    page.goto("/runs")
    empty = page.locator(".switcher-empty li", has_text="Acme support")
    empty.get_by_role("link", name="Create its first project").click()
    page.wait_for_url(re.compile(rf"/projects/new\?organization={organization.pk}$"))
    page.get_by_label("Name").fill("Second try")
    page.get_by_role("button", name="Create project").click()
    page.wait_for_url(re.compile(r"/dashboard$"))
    assert page.locator("#project-select option:checked").inner_text() == "Second try"
    assert organization.projects.get().name == "Second try"
