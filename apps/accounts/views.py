from django.contrib import auth, messages
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from apps.accounts import services
from apps.accounts.forms import LoginForm
from apps.accounts.throttling import login_throttles
from apps.core.throttling import render_throttled, throttle_wait, throttled_message


def safe_next(request, default: str = "/dashboard") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return default


@require_http_methods(["GET", "POST"])
def login(request):
    if request.user.is_authenticated:
        return redirect(safe_next(request))
    form = LoginForm(request.POST or None)
    context = {"form": form, "next": safe_next(request, "")}
    if request.method == "POST" and (wait := throttle_wait(request, login_throttles())):
        form.add_error(None, throttled_message("sign-in attempts", wait))
        return render_throttled(request, "accounts/login.html", context, wait)
    if request.method == "POST" and form.is_valid():
        user = services.user_authenticate(**form.cleaned_data)
        if user is not None:
            auth.login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect(safe_next(request))
        form.add_error(None, "Invalid email or password.")
    return render(request, "accounts/login.html", context)


@require_POST
def logout(request):
    auth.logout(request)
    messages.info(request, "You are signed out.")
    return redirect("accounts:login")
