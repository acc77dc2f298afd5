"""The Settings page: its tabs for the project (Project, API keys) and its organization (Organization,
Members, Audit log)."""

from django.conf import settings
from django.core.paginator import Paginator
from django.urls import reverse
from django_htmx.http import trigger_client_event

from apps.core.htmx import render_htmx
from apps.orgs import selectors as org_selectors
from apps.orgs.permissions import authorize, can
from apps.orgs.roles import PERMISSIONS, RANK, Role
from apps.projects import selectors
from apps.projects.forms import ApiKeyForm, AuditFilterForm, InviteForm, OrganizationForm, ProjectForm, RetentionForm

TABS = ("project", "api-keys", "organization", "members", "audit")
AUDIT_PAGE_SIZE = 50


def settings_url(project, tab: str) -> str:
    return f"{reverse('projects:settings')}?tab={tab}&project={project.pk}"


def retention_form(project, data=None) -> RetentionForm:
    initial = {"retention_days": "" if project.retention_days is None else project.retention_days}
    return RetentionForm(data, initial=initial, site_days=settings.RETENTION_DAYS, current=project.retention_days)


def render_settings(request, project, tab: str, *, toast: tuple[str, str] | None = None, **extra):
    """The settings page, or only its `settings` partial when htmx asks for #settings."""
    api_keys = list(selectors.api_keys_for_project(project=project)) if project else []
    context = {
        "project": project,
        "tab": tab,
        "project_form": ProjectForm(initial={"name": project.name, "description": project.description})
        if project
        else None,
        "retention_form": retention_form(project) if project else None,
        "key_form": ApiKeyForm(),
        "api_keys": api_keys,
        "active_key_count": sum(not key.is_revoked for key in api_keys),
        **(org_context(request, project.organization, tab) if project else {}),
        **extra,
    }
    response = render_htmx(request, "projects/settings.html", context, partial={"settings": "settings"})
    if toast and request.htmx:
        trigger_client_event(response, "toast", {"level": toast[0], "message": toast[1]})
    return response


def org_context(request, organization, tab: str) -> dict:
    """What the Organization, Members and Audit log tabs show, for the user's role."""
    user = request.user
    role = authorize(user=user, organization_id=organization.pk, action="read")
    allowed = {
        action.replace(".", "_"): can(user=user, organization_id=organization.pk, action=action)
        for action in PERMISSIONS
    }
    context = {"organization": organization, "role": role, "allowed": allowed, "roles": Role.choices}
    if tab == "organization":
        context["org_form"] = OrganizationForm(initial={"name": organization.name})
        context["org_projects"] = organization.projects.order_by("name")
    elif tab == "members":
        context["members"] = list(org_selectors.members_for_org(organization=organization))
        context["invite_form"] = InviteForm(initial={"role": Role.MEMBER})
        context["invite_roles"] = [choice for choice in Role.choices if RANK[Role(choice[0])] <= RANK[Role(role)]]
        if allowed["member_invite"]:
            context["invitations"] = list(org_selectors.invitations_pending(organization=organization))
    elif tab == "audit" and allowed["audit_read"]:
        context |= _audit_context(request, organization)
    return context


def _audit_context(request, organization) -> dict:
    form = AuditFilterForm(request.GET)
    filters = form.cleaned_data if form.is_valid() else {}
    entries = org_selectors.audit_entries(organization=organization, **{k: v for k, v in filters.items() if v})
    page = Paginator(entries.select_related("actor"), AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    return {
        "audit_form": form,
        "audit_page": page,
        "audit_actions": org_selectors.audit_actions(organization=organization),
    }
