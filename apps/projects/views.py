from django.conf import settings as conf
from django.contrib import auth, messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from apps.accounts.forms import RegisterForm
from apps.accounts.throttling import RegisterIpThrottle
from apps.core.errors import ApplicationError
from apps.core.htmx import render_htmx
from apps.core.throttling import render_throttled, throttle_wait, throttled_message
from apps.projects import selectors, services
from apps.projects.forms import ApiKeyForm, ProjectDeleteForm, ProjectForm, RetentionForm

TABS = ("project", "api-keys")


def _add_errors(form, exc: ApplicationError) -> None:
    if not exc.errors:
        form.add_error(None, exc.detail)
    for field, messages_ in exc.errors.items():
        for message in messages_ if isinstance(messages_, list) else [messages_]:
            form.add_error(field if field in form.fields else None, message)


def _settings_url(project, tab: str) -> str:
    return f"{reverse('projects:settings')}?tab={tab}&project={project.pk}"


def _render_settings(request, project, tab: str, *, toast: tuple[str, str] | None = None, **extra):
    """The settings page, or only its `settings` partial when htmx asks for #settings."""
    api_keys = list(selectors.api_keys_for_project(project=project)) if project else []
    context = {
        "project": project,
        "tab": tab,
        "project_form": ProjectForm(initial={"name": project.name, "description": project.description})
        if project
        else None,
        "retention_form": _retention_form(project) if project else None,
        "key_form": ApiKeyForm(),
        "api_keys": api_keys,
        "active_key_count": sum(not key.is_revoked for key in api_keys),
        **extra,
    }
    response = render_htmx(request, "projects/settings.html", context, partial={"settings": "settings"})
    if toast and request.htmx:
        trigger_client_event(response, "toast", {"level": toast[0], "message": toast[1]})
    return response


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


@login_required
@require_http_methods(["GET", "POST"])
def project_new(request):
    form = ProjectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        project = services.project_create(user=request.user, **form.cleaned_data)
        services.project_select(user=request.user, project=project)
        messages.success(request, f"Project “{project.name}” created.")
        return redirect("dashboard:index")
    return render(request, "projects/new.html", {"form": form})


@login_required
@require_http_methods(["GET"])
def settings(request):
    tab = request.GET.get("tab") if request.GET.get("tab") in TABS else "project"
    return _render_settings(request, request.current_project or None, tab)


def _retention_form(project, data=None) -> RetentionForm:
    initial = {"retention_days": "" if project.retention_days is None else project.retention_days}
    return RetentionForm(data, initial=initial, site_days=conf.RETENTION_DAYS, current=project.retention_days)


@login_required
@require_POST
def project_retention(request, project_id):
    project = selectors.project_get(user=request.user, project_id=project_id)
    form = _retention_form(project, request.POST)
    if not form.is_valid():
        return _render_settings(request, project, "project", retention_form=form)
    project = services.project_update(project=project, data=form.cleaned_data)
    if request.htmx:
        return _render_settings(request, project, "project", toast=("success", "Retention saved."))
    messages.success(request, "Retention saved.")
    return redirect(_settings_url(project, "project"))


@login_required
@require_POST
def project_update(request, project_id):
    project = selectors.project_get(user=request.user, project_id=project_id)
    form = ProjectForm(request.POST)
    if not form.is_valid():
        return _render_settings(request, project, "project", project_form=form)
    project = services.project_update(project=project, data=form.cleaned_data)
    if request.htmx:
        return _render_settings(request, project, "project", renamed=True, toast=("success", "Project saved."))
    messages.success(request, "Project saved.")
    return redirect(_settings_url(project, "project"))


@login_required
@require_POST
def project_delete(request, project_id):
    project = selectors.project_get(user=request.user, project_id=project_id)
    form = ProjectDeleteForm(request.POST, project=project)
    if not form.is_valid():
        messages.error(request, form.errors["confirm_name"][0])
        return redirect(_settings_url(project, "project"))
    name = project.name
    services.project_delete(project=project)
    messages.success(request, f"Project “{name}” deleted.")
    return redirect("dashboard:index")


@never_cache  # the answer holds the raw key: no cache may keep it
@login_required
@require_POST
def api_key_create(request, project_id):
    project = selectors.project_get(user=request.user, project_id=project_id)
    form = ApiKeyForm(request.POST)
    if not form.is_valid():
        return _render_settings(request, project, "api-keys", key_form=form)
    api_key, raw = services.api_key_create(project=project, name=form.cleaned_data["name"].strip())
    return _render_settings(request, project, "api-keys", new_key=api_key, new_key_raw=raw)


@login_required
@require_POST
def api_key_revoke(request, project_id, key_id):
    api_key = selectors.api_key_get(user=request.user, project_id=project_id, key_id=key_id)
    services.api_key_revoke(api_key=api_key)
    message = f"Key {api_key.key_prefix}… revoked: agents using it are now refused."
    if request.htmx:
        return _render_settings(request, api_key.project, "api-keys", toast=("success", message))
    messages.success(request, message)
    return redirect(_settings_url(api_key.project, "api-keys"))
