"""A person's first minutes in real Chromium: register, get an API key, revoke it, sign out."""

import hashlib
import re

import pytest

from apps.projects.models import ApiKey, Project

pytestmark = pytest.mark.browser


def test_register_create_and_revoke_a_key_then_sign_out(page, live_server):
    # 1. Register.
    page.goto("/register")
    page.get_by_label("Name").fill("Grace Hopper")
    page.get_by_label("Email").fill("grace@example.com")
    page.get_by_label("Password").fill("c0bol-Compiler-1959")
    page.get_by_role("button", name="Create account").click()

    # 2. The dashboard, with the default project selected in the switcher.
    page.wait_for_url(re.compile(r"/dashboard$"))
    project = Project.objects.get(user__email="grace@example.com")
    switcher = page.locator("#project-select")
    assert switcher.input_value() == str(project.pk)
    assert switcher.locator("option:checked").inner_text() == "Default project"
    assert page.get_by_text("No runs in the last 7 days").is_visible()

    # 3. Create an API key and read it from the dialog.
    page.get_by_role("link", name="Settings", exact=True).click()
    page.get_by_role("link", name=re.compile("API Keys")).click()
    page.wait_for_url(re.compile(r"tab=api-keys"))
    page.get_by_label("Key name").fill("ci-agent")
    page.get_by_role("button", name="Create key").click()
    dialog = page.locator("#new-key-dialog")
    page.wait_for_function("document.querySelector('#new-key-dialog')?.matches(':modal')")
    assert dialog.is_visible()
    raw = dialog.locator("#new-api-key").inner_text().strip()
    assert raw.startswith("as_")
    key = ApiKey.objects.get(project=project, name="ci-agent")
    assert key.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    dialog.get_by_role("button", name="Done").click()
    assert not dialog.is_visible()

    # 4. After a reload only the prefix shows.
    page.reload()
    row = page.locator(f"#key-{key.pk}")
    assert row.locator(".key-prefix").inner_text() == f"{key.key_prefix}…"
    assert raw not in page.content()
    assert row.get_by_text("Active").is_visible()

    # 5. Revoke it, confirming in the dialog.
    row.get_by_role("button", name="Revoke").click()
    confirm = page.locator("#confirm-dialog")
    confirm.wait_for(state="visible")
    confirm.get_by_role("button", name="Revoke key").click()
    page.locator(f"#key-{key.pk}").get_by_text("Revoked").wait_for()
    page.locator(".toast", has_text="revoked").wait_for()
    key.refresh_from_db()
    assert key.revoked_at is not None

    # 6. Sign out from the user menu.
    page.locator("summary.menu-trigger").click()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/login$"))
    assert page.get_by_text("You are signed out.").is_visible()

    # 7. Protected pages send a signed-out visitor to the login page.
    page.goto("/runs")
    assert page.url == f"{live_server.url}/login?next=/runs"


def test_the_project_switcher_and_the_mobile_sidebar(page, live_server, alice, project, client):
    from apps.projects.services import project_create

    other = project_create(user=alice, name="Staging agents")
    client.force_login(alice)
    cookie = client.cookies["sessionid"]
    page.context.add_cookies([{"name": "sessionid", "value": cookie.value, "url": live_server.url}])

    page.goto("/runs")
    page.locator("#project-select").select_option(str(other.pk))
    page.wait_for_url(re.compile(rf"/runs\?project={other.pk}$"))
    assert page.locator(".crumb").inner_text() == "Staging agents"
    alice.refresh_from_db()
    assert alice.selected_project_id == other.pk

    page.set_viewport_size({"width": 390, "height": 800})
    nav = page.get_by_role("link", name="Breakpoints")
    # The sidebar slides away with a CSS transition once the viewport narrows: let it finish.
    page.wait_for_function(
        """() => { const a = [...document.querySelectorAll('a')].find(e => e.textContent.trim() === 'Breakpoints');
                   if (!a) return true; const r = a.getBoundingClientRect();
                   return (r.width === 0 && r.height === 0) || r.x < 0; }"""
    )
    assert not nav.is_visible() or nav.bounding_box()["x"] < 0
    page.get_by_role("button", name="Open navigation").click()
    page.wait_for_function("document.querySelector('#sidebar').getBoundingClientRect().left >= 0")
    nav.click()
    page.wait_for_url(re.compile(r"/breakpoints$"))
    assert page.get_by_text("No breakpoints yet").is_visible()
