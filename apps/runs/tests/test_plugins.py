"""The run page loads what other areas show about a run: breakpoint controls and test verdicts."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_a_live_run_polls_its_breakpoint_controls(client_alice, make_run):
    run = make_run(end=False)
    html = client_alice.get(f"/runs/{run.id}").content.decode()
    assert reverse("breakpoints:run_controls", args=[run.pk]) in html
    assert 'hx-trigger="load, every 3s"' in html
    assert "css/breakpoints.css" in html


def test_a_finished_run_does_not_poll_for_breakpoints(client_alice, make_run):
    run = make_run()
    html = client_alice.get(f"/runs/{run.id}").content.decode()
    assert reverse("breakpoints:run_controls", args=[run.pk]) not in html


def test_the_run_page_loads_its_test_verdicts(client_alice, make_run):
    run = make_run()
    html = client_alice.get(f"/runs/{run.id}").content.decode()
    assert reverse("testing:run_verdicts", args=[run.pk]) in html
