import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import User
from apps.breakpoints.models import Breakpoint, BreakpointHit
from apps.core.models import CacheEntry
from apps.mcp.models import McpLog, McpTool, McpToolVersion
from apps.orgs.audit import Actor
from apps.orgs.models import AuditEntry
from apps.orgs.services import invitation_create
from apps.projects.services import api_key_create
from apps.runs.models import AgentDay, RollupDay, Run, RunStep
from apps.testing.models import Test, TestBackfill, TestRun

pytestmark = pytest.mark.django_db

MODELS = [User, Run, RunStep, Test, TestRun, Breakpoint, BreakpointHit, McpTool, McpLog]


@pytest.fixture
def admin_client(client):
    client.force_login(User.objects.create_superuser(email="root@example.com", password="x"))
    return client


@pytest.fixture
def one_of_each(project):
    api_key_create(project=project, name="k")
    run = Run.objects.create(project=project, agent_name="bot", input={"q": "hi"})
    step = RunStep.objects.create(run=run, step_index=0, step_type="tool_call", name="search", error={"m": "x"})
    test = Test.objects.create(project=project, name="t", test_type="custom", config={"expression": "run"})
    TestRun.objects.create(test=test, run=run, status="passed")
    TestBackfill.objects.create(test=test, run_ids=[str(run.pk)])
    CacheEntry.objects.create(cache_key=":1:throttle_login_ip_192.0.2.1_0", value="gAVLAS4=", expires=timezone.now())
    bp = Breakpoint.objects.create(
        project=project, condition_type="step_type", condition_value={"step_type": "llm_call"}
    )
    BreakpointHit.objects.create(run=run, step=step, breakpoint=bp, step_input={"a": 1})
    tool = McpTool.objects.create(project=project, tool_name="fetch")
    McpToolVersion.objects.create(tool=tool, version=1, description="Fetch a URL")
    RollupDay.objects.create(project=project, day=run.started_at.date())
    AgentDay.objects.create(
        project=project, day=run.started_at.date(), agent_name="bot", runs=1, failed=0, duration_sum=5, duration_count=1
    )
    McpLog.objects.create(project=project, tool=tool, run=run, log_type="response", request={"url": "x"})
    actor = Actor(user=project.user, ip="192.0.2.1")
    invitation_create(
        organization=project.organization, email="dan@example.com", role="viewer", by_role="owner", actor=actor,
        accept_url=lambda raw: raw,
    )  # fmt: skip


def test_every_model_is_registered():
    from django.apps import apps as django_apps

    ours = [m for m in django_apps.get_models() if m.__module__.startswith("apps.")]
    assert ours and all(admin.site.is_registered(m) for m in ours)


@pytest.mark.usefixtures("one_of_each")
def test_every_changelist_and_change_page_renders(admin_client):
    for model in admin.site._registry:
        if not model.__module__.startswith("apps."):
            continue
        info = (model._meta.app_label, model._meta.model_name)
        assert admin_client.get(reverse("admin:{}_{}_changelist".format(*info))).status_code == 200, info
        assert admin_client.get(reverse("admin:{}_{}_changelist".format(*info)) + "?q=x").status_code == 200, info
        obj = model.objects.first()
        response = admin_client.get(reverse("admin:{}_{}_change".format(*info), args=[obj.pk]))
        assert response.status_code == 200, info


@pytest.mark.usefixtures("one_of_each")
def test_json_is_shown_indented(admin_client):
    run = Run.objects.get()
    html = admin_client.get(reverse("admin:runs_run_change", args=[run.pk])).content.decode()
    assert "{\n  &quot;q&quot;: &quot;hi&quot;\n}" in html


def test_it_requires_staff(client_alice):
    response = client_alice.get(reverse("admin:runs_run_changelist"))
    assert response.status_code == 302


@pytest.mark.usefixtures("one_of_each")
def test_the_audit_log_is_read_only_in_the_admin(admin_client):
    entry = AuditEntry.objects.get()
    url = reverse("admin:orgs_auditentry_change", args=[entry.pk])
    page = admin_client.get(url).content.decode()
    assert "member.invited" in page and 'name="_save"' not in page
    admin_client.post(url, {"action": "nothing.happened"})
    admin_client.post(reverse("admin:orgs_auditentry_delete", args=[entry.pk]), {"post": "yes"})
    assert admin_client.get(reverse("admin:orgs_auditentry_add")).status_code == 403
    assert AuditEntry.objects.get().action == "member.invited"
