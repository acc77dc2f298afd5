"""Settings, Prices: a project's own prices per million tokens (the page of /api/projects/{id}/prices)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.core.errors import ApplicationError
from apps.orgs.permissions import can
from apps.projects.selectors import project_get
from apps.runs import prices
from apps.runs.forms import CustomPriceForm


@login_required
def price_list(request, form: CustomPriceForm | None = None, status: int = 200):
    project = request.current_project or None
    context = {"project": project, "tab": "prices", "form": form or CustomPriceForm()}
    if project is not None:
        context["prices"] = prices.custom_prices_for_project(project=project)
        for key, action in (("can_edit", "price.write"), ("can_audit", "audit.read")):
            context[key] = can(user=request.user, organization_id=project.organization_id, action=action)
    return render(request, "runs/prices.html", context, status=status)


@login_required
@require_POST
def price_create(request, project_id):
    project = project_get(user=request.user, project_id=project_id, action="price.write")
    form = CustomPriceForm(request.POST)
    if not form.is_valid():
        return price_list(request, form, status=400)
    try:
        price = prices.custom_price_create(project=project, data=form.cleaned_data)
    except ApplicationError as exc:
        form.add_error("model", exc.detail)
        return price_list(request, form, status=400)
    messages.success(
        request, f"Price for {price.model} saved: new steps use it; reprice stored ones with costs_recompute."
    )
    return redirect("runs:prices")


@login_required
@require_POST
def price_delete(request, project_id, price_id):
    project = project_get(user=request.user, project_id=project_id, action="price.write")
    try:
        price = prices.custom_price_get(project=project, price_id=price_id)
    except ApplicationError:
        return render(request, "404.html", status=404)
    prices.custom_price_delete(price=price)
    messages.success(request, f"Price for {price.model} deleted.")
    return redirect("runs:prices")
