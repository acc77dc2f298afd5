"""/api/projects/{id}/prices and `costs_recompute`: custom prices edited, stored steps repriced."""

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apps.runs.models import Run, RunStep
from apps.runs.services import run_create, step_create
from apps.runs.tests.conftest import T0

M = Decimal(1_000_000)


def url(project, price=None):
    return f"/api/projects/{project.pk}/prices" + (f"/{price}" if price else "")


def llm(model, input_tokens, **metadata):
    usage = {"input_tokens": input_tokens, "output_tokens": 0}
    return {
        "step_type": "llm_call",
        "name": "call",
        "output": "ok",
        "metadata": {"model": model, "usage": usage, **metadata},
    }


@pytest.mark.django_db
class TestPricesApi:
    def test_it_works(self, api, project):
        body = {"model": "acme-*", "match": "glob", "input_per_million": "0.5", "output_per_million": "1.5"}
        created = api.post(url(project), body, format="json")
        assert created.status_code == 201, created.json()
        price_id = created.json()["id"]
        assert created.json()["cache_read_per_million"] is None
        listed = api.get(url(project)).json()
        assert listed["count"] == 1 and listed["results"][0]["model"] == "acme-*"
        changed = api.patch(url(project, price_id), {"output_per_million": "2"}, format="json")
        assert changed.status_code == 200 and Decimal(changed.json()["output_per_million"]) == 2
        assert api.delete(url(project, price_id)).status_code == 204
        assert api.get(url(project)).json()["count"] == 0

    def test_bad_input_is_a_400_in_the_error_shape(self, api, project):
        answer = api.post(url(project), {"model": "", "input_per_million": "-1"}, format="json")
        assert answer.status_code == 400
        assert {"model", "input_per_million", "output_per_million"} <= answer.json()["errors"].keys()
        assert answer.json()["detail"]

    def test_a_second_price_for_the_same_model_is_a_400(self, api, project):
        body = {"model": "acme", "input_per_million": "1", "output_per_million": "1"}
        assert api.post(url(project), body, format="json").status_code == 201
        again = api.post(url(project), body, format="json")
        assert again.status_code == 400 and "model" in again.json()["errors"]

    def test_it_requires_login(self, anon_api, project):
        assert anon_api.get(url(project)).status_code in (401, 403)

    def test_it_checks_ownership(self, api, bob_project, bob):
        from apps.runs.prices import custom_price_create

        price = custom_price_create(
            project=bob_project, data={"model": "x", "input_per_million": 1, "output_per_million": 1}
        )
        assert api.get(url(bob_project)).status_code == 404
        assert api.post(url(bob_project), {"model": "y"}, format="json").status_code == 404
        assert api.delete(url(bob_project, price.pk)).status_code == 404


@pytest.mark.django_db
class TestRecompute:
    def test_it_reprices_only_what_it_should(self, api, project, bob_project):
        old = run_create(project=project, agent_name="a", started_at=T0 - timedelta(days=10))[0]
        new = run_create(project=project, agent_name="a", started_at=T0)[0]
        bobs = run_create(project=bob_project, agent_name="a", started_at=T0)[0]
        for run in (old, new, bobs):
            step_create(run=run, data=llm("acme-llm", 1_000_000))
        reported, _ = step_create(run=new, data=llm("acme-llm", 1_000_000, cost_usd="0.5"))
        gpt, _ = step_create(run=new, data=llm("gpt-4o-mini", 1_000_000, provider="openai"))
        new.refresh_from_db()
        assert new.cost_usd == Decimal("0.5") + Decimal("0.15") and new.unpriced_steps == 1

        body = {"model": "acme-llm", "input_per_million": "2", "output_per_million": "4"}
        assert api.post(url(project), body, format="json").status_code == 201
        out = StringIO()
        call_command(
            "costs_recompute", project=str(project.pk), since=T0.date().isoformat(), no_progress=True, stdout=out
        )
        assert "Repriced 1 runs" in out.getvalue() and "1 changed" in out.getvalue()

        new.refresh_from_db()
        assert new.cost_usd == Decimal("2") + Decimal("0.5") + Decimal("0.15") and new.unpriced_steps == 0
        assert sum(s.cost_usd for s in RunStep.objects.filter(run=new)) == new.cost_usd
        assert RunStep.objects.get(pk=reported.pk).cost_details == {"source": "reported"}
        assert RunStep.objects.get(pk=gpt.pk).cost_usd == Decimal("0.15")
        assert Run.objects.get(pk=old.pk).cost_usd is None  # before --since
        assert Run.objects.get(pk=bobs.pk).cost_usd is None  # another project

    def test_it_refuses_an_unknown_project_or_date(self, project):
        with pytest.raises(CommandError):
            call_command("costs_recompute", project="nope", since="2026-01-01")
        with pytest.raises(CommandError):
            call_command("costs_recompute", project=str(project.pk), since="yesterday")


@pytest.mark.django_db
class TestPricesPage:
    def test_it_works(self, client_alice, project):
        assert client_alice.get("/settings/prices").status_code == 200
        answer = client_alice.post(
            f"/settings/prices/{project.pk}/new",
            {"model": "acme-7b", "match": "exact", "input_per_million": "1.5", "output_per_million": "3"},
        )
        assert answer.status_code == 302
        page = client_alice.get("/settings/prices").content.decode()
        assert "acme-7b" in page and "$1.5" in page

    def test_bad_input_is_shown_on_the_page(self, client_alice, project):
        answer = client_alice.post(f"/settings/prices/{project.pk}/new", {"model": "", "input_per_million": "-1"})
        assert answer.status_code == 400 and "field-errors" in answer.content.decode()

    def test_it_requires_login(self, client, project):
        assert client.get("/settings/prices").status_code == 302

    def test_it_checks_ownership(self, client_alice, bob_project):
        from apps.runs.prices import custom_price_create

        price = custom_price_create(
            project=bob_project, data={"model": "x", "input_per_million": 1, "output_per_million": 1}
        )
        body = {"model": "y", "input_per_million": "1", "output_per_million": "1"}
        assert client_alice.post(f"/settings/prices/{bob_project.pk}/new", body).status_code == 404
        assert client_alice.post(f"/settings/prices/{bob_project.pk}/{price.pk}/delete").status_code == 404
