import uuid

from django.contrib import auth, messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from apps.accounts.forms import RegisterForm
from apps.accounts.throttling import RegisterIpThrottle
from apps.core.errors import ApplicationError
from apps.core.throttling import render_throttled, throttle_wait, throttled_message
from apps.orgs import selectors as org_selectors
from apps.orgs.audit import actor_from_request
from apps.orgs.permissions import authorize, can
from apps.projects import selectors, services
from apps.projects.forms import ApiKeyForm, OrganizationNewForm, ProjectDeleteForm, ProjectForm
from apps.projects.settings_page import TABS, render_settings, retention_form, settings_url


def _add_errors(form, exc: ApplicationError) -> None:
    if not exc.errors:
        form.add_error(None, exc.detail)
    for field, messages_ in exc.errors.items():
        for message in messages_ if isinstance(messages_, list) else [messages_]:
            form.add_error(field if field in form.fields else None, message)


@require_http_methods(["GET", "POST"])
def register(request):
    if request.user.is_authenticated:
        return redirect("dashboard:index")
    form = RegisterForm(request.POST or None)
    if request.method == "POST" and (wait := throttle_wait(request, [RegisterIpThrottle()])):
        form.add_error(None, throttled_message("sign-ups from your network", wait))
        return render_throttled(request, "projects/register.html", {"form": form}, wait)
    if request.method == "POST" and form.is_valid():
        try:
            user, project = services.account_signup(**form.cleaned_data)
        except ApplicationError as exc:
            _add_errors(form, exc)
        else:
            auth.login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, f"Welcome to AgentScope! “{project.name}” is ready for your first run.")
            return redirect("dashboard:index")
    return render(request, "projects/register.html", {"form": form})


def project_can_create(request, project) -> bool:
    return can(user=request.user, organization_id=project.organization_id, action="project.create")


def _organization_asked(request):
    """The organization `?organization=<id>` names, if the user may create projects in it: 404 outside it,
    403 for a role below admin. None when none is asked."""
    raw = request.GET.get("organization")
    if not raw:
        return None
    try:
        organization = org_selectors.org_get(user=request.user, organization_id=uuid.UUID(raw))
    except ValueError:
        raise Http404("No such organization.") from None
    authorize(user=request.user, organization_id=organization.pk, action="project.create")
    return organization


@login_required
@require_http_methods(["GET", "POST"])
def project_new(request):
    """A new project in the organization asked for (`?organization=<id>`, admins and owners), else in the
    current project's organization if the user may create there, else in their own."""
    organization = _organization_asked(request)
    current = request.current_project or None
    if organization is None and current and project_can_create(request, current):
        organization = current.organization
    form = ProjectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        actor = actor_from_request(request)
        project = services.project_create(
            user=request.user, organization=organization, actor=actor, **form.cleaned_data
        )
        services.project_select(user=request.user, project=project)
        messages.success(request, f"Project “{project.name}” created.")
        return redirect("dashboard:index")
    return render(
        request,
        "projects/new.html",
        {"form": form, "organization": organization, "asked": request.GET.get("organization") and organization},
    )


@login_required
@require_http_methods(["GET", "POST"])
def org_new(request):
    """A new organization, the user its owner, with its first project, which the user lands on."""
    form = OrganizationNewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        project = services.org_create_with_project(
            user=request.user, name=form.cleaned_data["name"], project_name=form.cleaned_data["project_name"],
            actor=actor_from_request(request),
        )  # fmt: skip
        messages.success(request, f"Organization “{project.organization.name}” created, with “{project.name}”.")
        return redirect("dashboard:index")
    return render(request, "projects/org_new.html", {"form": form})


@login_required
@require_http_methods(["GET"])
def settings(request):
    tab = request.GET.get("tab") if request.GET.get("tab") in TABS else "project"
    return render_settings(request, request.current_project or None, tab)


@login_required
@require_POST
def project_retention(request, project_id):
    project = selectors.project_get(user=request.user, project_id=project_id, action="project.edit")
    form = retention_form(project, request.POST)
    if not form.is_valid():
        return render_settings(request, project, "project", retention_form=form)
    project = services.project_update(project=project, data=form.cleaned_data, actor=actor_from_request(request))
    if request.htmx:
        return render_settings(request, project, "project", toast=("success", "Retention saved."))
    messages.success(request, "Retention saved.")
    return redirect(settings_url(project, "project"))


@login_required
@require_POST
def project_update(request, project_id):
    project = selectors.project_get(user=request.user, project_id=project_id, action="project.edit")
    form = ProjectForm(request.POST)
    if not form.is_valid():
        return render_settings(request, project, "project", project_form=form)
    project = services.project_update(project=project, data=form.cleaned_data, actor=actor_from_request(request))
    if request.htmx:
        return render_settings(request, project, "project", renamed=True, toast=("success", "Project saved."))
    messages.success(request, "Project saved.")
    return redirect(settings_url(project, "project"))


@login_required
@require_POST
def project_delete(request, project_id):
    project = selectors.project_get(user=request.user, project_id=project_id, action="project.delete")
    form = ProjectDeleteForm(request.POST, project=project)
    if not form.is_valid():
        messages.error(request, form.errors["confirm_name"][0])
        return redirect(settings_url(project, "project"))
    name = project.name
    services.project_delete(project=project, actor=actor_from_request(request))
    messages.success(request, f"Project “{name}” deleted.")
    return redirect("dashboard:index")


@never_cache  # the answer holds the raw key: no cache may keep it
@login_required
@require_POST
def api_key_create(request, project_id):
    project = selectors.project_get(user=request.user, project_id=project_id, action="api_key.write")
    form = ApiKeyForm(request.POST)
    if not form.is_valid():
        return render_settings(request, project, "api-keys", key_form=form)
    api_key, raw = services.api_key_create(
        project=project, name=form.cleaned_data["name"].strip(), actor=actor_from_request(request)
    )
    return render_settings(request, project, "api-keys", new_key=api_key, new_key_raw=raw)


@login_required
@require_POST
def api_key_revoke(request, project_id, key_id):
    api_key = selectors.api_key_get(user=request.user, project_id=project_id, key_id=key_id, action="api_key.write")
    services.api_key_revoke(api_key=api_key, actor=actor_from_request(request))
    message = f"Key {api_key.key_prefix}… revoked: agents using it are now refused."
    if request.htmx:
        return render_settings(request, api_key.project, "api-keys", toast=("success", message))
    messages.success(request, message)
    return redirect(settings_url(api_key.project, "api-keys"))
