"""The organization's pages: the Organization, Members and Audit log tabs of Settings, and the page an
invitation link opens. They call the services of apps.orgs, as its JSON API does."""

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
from apps.core.throttling import render_throttled, throttle_wait, throttled_message
from apps.orgs import selectors as org_selectors
from apps.orgs import services as org_services
from apps.orgs.audit import actor_from_request
from apps.orgs.permissions import authorize
from apps.projects import services
from apps.projects.forms import InviteForm, OrganizationForm
from apps.projects.settings_page import org_context, render_settings


def _members_url(organization_project, tab: str = "members") -> str:
    return f"{reverse('projects:settings')}?tab={tab}&project={organization_project.pk}"


def _back(request, tab: str):
    project = request.current_project
    return redirect(_members_url(project, tab) if project else reverse("projects:settings"))


def _org_for(request, organization_id, action: str):
    organization = org_selectors.org_get(user=request.user, organization_id=organization_id)
    return organization, authorize(user=request.user, organization_id=organization.pk, action=action)


def _done(request, tab: str, message: str, *, level: str = "success"):
    getattr(messages, level)(request, message)
    return _back(request, tab)


@login_required
@require_POST
def org_update(request, organization_id):
    organization, _ = _org_for(request, organization_id, "org.edit")
    form = OrganizationForm(request.POST)
    if not form.is_valid():
        return _done(request, "organization", form.errors["name"][0], level="error")
    org_services.org_update(
        organization=organization, name=form.cleaned_data["name"], actor=actor_from_request(request)
    )
    return _done(request, "organization", "Organization renamed.")


@login_required
@require_POST
def org_delete(request, organization_id):
    """The Organization tab's danger zone: the name typed again, then everything of it goes."""
    organization, _ = _org_for(request, organization_id, "org.delete")
    if request.POST.get("confirm_name", "").strip() != organization.name.strip():
        return _done(request, "organization", "Type the organization's name exactly to delete it.", level="error")
    name = organization.name
    org_services.org_delete(organization=organization)
    messages.success(request, f"Organization “{name}” deleted, with its projects.")
    return redirect("dashboard:index")


@login_required
@require_POST
def member_role(request, organization_id, user_id):
    """The role dropdown of a row (htmx posts it on change): answers the row, or a redirect without htmx."""
    organization, _ = _org_for(request, organization_id, "member.role")
    membership = org_selectors.membership_get(organization=organization, user_id=user_id)
    try:
        org_services.member_role_change(
            membership=membership, role=request.POST.get("role", ""), actor=actor_from_request(request)
        )
    except ApplicationError as exc:
        return _done(request, "members", exc.detail, level="error")
    message = f"{membership.user.email} is now {membership.role}."
    if request.htmx:
        context = org_context(request, organization, "members") | {"member": membership}
        response = render(request, "projects/settings.html#member_row", context)
        return trigger_client_event(response, "toast", {"level": "success", "message": message})
    return _done(request, "members", message)


@login_required
@require_POST
def member_remove(request, organization_id, user_id):
    leaving = user_id == request.user.pk
    organization, role = _org_for(request, organization_id, "read" if leaving else "member.remove")
    membership = org_selectors.membership_get(organization=organization, user_id=user_id)
    try:
        org_services.member_remove(membership=membership, by_role=role, actor=actor_from_request(request))
    except ApplicationError as exc:
        return _done(request, "members", exc.detail, level="error")
    if leaving:
        messages.success(request, f"You left {organization.name}.")
        return redirect("dashboard:index")
    return _done(request, "members", f"{membership.user.email} was removed from {organization.name}.")


def _accept_url(request):
    return lambda raw: request.build_absolute_uri(reverse("projects:invitation", args=[raw]))


@never_cache  # the answer holds the link, whose token is shown only now
@login_required
@require_POST
def invitation_create(request, organization_id):
    organization, role = _org_for(request, organization_id, "member.invite")
    form = InviteForm(request.POST)
    if not form.is_valid():
        first = next(iter(form.errors.values()))[0]
        return _done(request, "members", first, level="error")
    try:
        invitation, raw = org_services.invitation_create(
            organization=organization, **form.cleaned_data, by_role=role, actor=actor_from_request(request),
            accept_url=_accept_url(request),
        )  # fmt: skip
    except ApplicationError as exc:
        return _done(request, "members", next(iter(exc.errors.values()), [exc.detail])[0], level="error")
    return _shown_link(request, organization, invitation, raw)


def _shown_link(request, organization, invitation, raw):
    link = _accept_url(request)(raw)
    return render_settings(
        request, request.current_project or None, "members", new_invitation=invitation, new_link=link
    )


@never_cache
@login_required
@require_POST
def invitation_resend(request, organization_id, invitation_id):
    organization, _ = _org_for(request, organization_id, "member.invite")
    invitation = org_selectors.invitation_get(organization=organization, invitation_id=invitation_id)
    try:
        invitation, raw = org_services.invitation_resend(
            invitation=invitation, actor=actor_from_request(request), accept_url=_accept_url(request)
        )
    except ApplicationError as exc:
        return _done(request, "members", exc.detail, level="error")
    return _shown_link(request, organization, invitation, raw)


@login_required
@require_POST
def invitation_revoke(request, organization_id, invitation_id):
    organization, _ = _org_for(request, organization_id, "member.invite")
    invitation = org_selectors.invitation_get(organization=organization, invitation_id=invitation_id)
    org_services.invitation_revoke(invitation=invitation, actor=actor_from_request(request))
    return _done(request, "members", f"The invitation of {invitation.email} was revoked: its link no longer works.")


@never_cache
@require_http_methods(["GET", "POST"])
def invitation(request, token):
    """The link of an invitation: accept as the signed-in user, or register and join in one step. A used,
    revoked, expired or altered link gets a page that says which, never an error."""
    found = org_selectors.invitation_by_token(raw_token=token)
    try:
        invitation = org_services.invitation_check(found)
    except ApplicationError as exc:
        return render(request, "projects/invitation.html", {"refusal": exc.detail}, status=exc.status)
    if request.user.is_authenticated:
        return _accept_signed_in(request, invitation)
    form = RegisterForm(request.POST or None, initial={"email": invitation.email})
    if request.method == "POST" and (wait := throttle_wait(request, [RegisterIpThrottle()])):
        form.add_error(None, throttled_message("sign-ups from your network", wait))
        return render_throttled(request, "projects/invitation.html", {"invitation": invitation, "form": form}, wait)
    if request.method == "POST":
        form.data = form.data.copy()
        form.data["email"] = invitation.email  # the invitation says whose it is
        if form.is_valid():
            return _register_and_join(request, invitation, form)
    context = {"invitation": invitation, "form": form, "login_url": f"{reverse('accounts:login')}?next={request.path}"}
    return render(request, "projects/invitation.html", context)


def _accept_signed_in(request, invitation):
    if request.method == "POST":
        try:
            org_services.invitation_accept(invitation=invitation, user=request.user, ip=actor_from_request(request).ip)
        except ApplicationError as exc:
            return render(request, "projects/invitation.html", {"refusal": exc.detail}, status=exc.status)
        return _joined(request, invitation)
    return render(request, "projects/invitation.html", {"invitation": invitation})


def _register_and_join(request, invitation, form):
    try:
        user = services.account_signup_invited(
            invitation=invitation, **form.cleaned_data, ip=actor_from_request(request).ip
        )
    except ApplicationError as exc:
        form.add_error(None, exc.detail)
        return render(request, "projects/invitation.html", {"invitation": invitation, "form": form}, status=400)
    auth.login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return _joined(request, invitation)


def _joined(request, invitation):
    first = invitation.organization.projects.order_by("created_at").first()
    messages.success(request, f"You joined {invitation.organization.name} as {invitation.role}.")
    return redirect(f"{reverse('dashboard:index')}?project={first.pk}" if first else reverse("dashboard:index"))
