"""A team in real Chromium: the owner invites a viewer, who registers through the link and reads the runs
but can't resume or delete them (nor can the API); the owner makes them a member, who resumes the paused
run; the audit log shows each step with who took it."""

import pytest
from rest_framework.test import APIClient

from agentscope.tests.conftest import send_run
from apps.accounts.models import User
from apps.accounts.tokens import tokens_for_user
from apps.breakpoints.models import BreakpointHit, HitStatus
from apps.breakpoints.services import breakpoint_create

pytestmark = pytest.mark.browser


def sign_in(page, live_server, client, user):
    client.force_login(user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )


def test_invite_a_viewer_promote_them_and_they_resume_a_paused_run(
    page, chromium, live_server, client, alice, project, ingest
):
    breakpoint_create(project=project, condition_type="step_name", condition_value={"pattern": "issue_refund"})
    done = send_run(ingest, agent="research-assistant", steps=[{"step_type": "llm_call", "name": "plan", "output": {}}])
    paused = send_run(
        ingest,
        agent="refund-bot",
        end=False,
        steps=[{"step_type": "tool_call", "name": "issue_refund", "input": {"amount": 20}}],
    )
    sign_in(page, live_server, client, alice)

    # 1. The owner invites dan as a viewer and gets the link.
    page.goto(f"/settings?tab=members&project={project.pk}")
    form = page.locator("[data-invite-form]")
    form.get_by_label("Email").fill("dan@example.com")
    form.get_by_label("Role").select_option("viewer")
    form.get_by_role("button", name="Invite").click()
    link = page.locator("#invitation-link").inner_text()
    assert "/invitations/" in link
    page.get_by_role("button", name="Done").click()
    assert page.locator("#invitations", has_text="dan@example.com").is_visible()

    # 2. Dan opens the link in his own browser, registers and joins, and sees the runs.
    dan_context = chromium.new_context(
        base_url=live_server.url, viewport={"width": 1400, "height": 900}, bypass_csp=True
    )
    dan_context.set_default_timeout(10_000)
    dan_page = dan_context.new_page()
    dan_page.goto(link)
    assert dan_page.get_by_text("You're invited as viewer").is_visible()
    dan_page.get_by_label("Name").fill("Dan")
    dan_page.get_by_label("Password").fill("correct-horse-battery-staple")
    dan_page.get_by_role("button", name="Create account and join").click()
    dan_page.wait_for_url("**/dashboard**")
    dan_page.goto("/runs")
    assert dan_page.locator(f"a[href='/runs/{done}']").first.is_visible()
    assert dan_page.locator(f"a[href='/runs/{paused}']").first.is_visible()

    # 3. As a viewer he has no Delete nor Resume button, and the API refuses both.
    assert dan_page.get_by_role("button", name="Delete run").count() == 0
    dan_page.goto(f"/runs/{paused}")
    dan_page.locator("[data-resume-needs-role]").wait_for()
    assert dan_page.get_by_role("button", name="Continue").count() == 0
    assert dan_page.get_by_role("button", name="Delete run").count() == 0
    dan = User.objects.get(email="dan@example.com")
    dan_api = APIClient()
    dan_api.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens_for_user(dan)['access']}")
    refused = dan_api.post(f"/api/runs/{paused}/resume", {"action": "continue"}, format="json")
    assert refused.status_code == 403 and "needs the member role" in refused.json()["detail"]
    assert dan_api.delete(f"/api/runs/{done}").status_code == 403

    # 4. The owner makes him a member with the role dropdown.
    page.reload()
    page.locator(f"#role-{dan.pk}").select_option("member")
    page.locator(".toast", has_text="dan@example.com is now member").wait_for()

    # 5. Now a member, he resumes the paused run.
    dan_page.reload()
    dan_page.get_by_role("button", name="Continue", exact=True).click()
    dan_page.locator("#bp-run-controls").wait_for(state="detached")
    assert BreakpointHit.objects.get(run_id=paused).status == HitStatus.RESUMED
    dan_context.close()

    # 6. The audit log shows each step, with who took it.
    page.goto(f"/settings?tab=audit&project={project.pk}")
    rows = page.locator("#audit-log tbody tr")
    seen = [
        (row.locator("[data-label=Who]").inner_text(), row.get_attribute("data-audit-action")) for row in rows.all()
    ]
    assert seen[:4] == [
        ("dan@example.com", "run.resumed"),
        ("alice@example.com", "member.role_changed"),
        ("dan@example.com", "member.joined"),
        ("alice@example.com", "member.invited"),
    ]
    page.get_by_label("Action").select_option("member.role_changed")
    page.get_by_role("button", name="Filter").click()
    assert page.locator("#audit-log tbody tr").count() == 1
    assert "viewer → member" in page.locator("#audit-log tbody tr").inner_text()
