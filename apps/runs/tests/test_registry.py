"""The run page shows the panels other apps register, and /api/runs serves their routes."""

from pathlib import Path

import pytest
from django.http import JsonResponse
from django.urls import include, path

from apps.runs.registry import BANNER, PANEL, RunPage, RunPanel, run_page

pytestmark = pytest.mark.django_db


@pytest.fixture
def note_panel(settings):
    """A panel registered for the test only, from a template of these tests."""
    engine = settings.TEMPLATES[0]
    settings.TEMPLATES = [{**engine, "DIRS": [*engine["DIRS"], Path(__file__).parent / "templates"]}]
    registered = []

    def register(name="note", **fields):
        fields.setdefault("context", lambda *, request, run: {"note": f"hello {request.user.email}"})
        run_page.register_panel(RunPanel(name=name, template="runs_tests/note.html", **fields))
        registered.append(name)

    yield register
    for name in registered:
        run_page.unregister(name)


def test_a_registered_panel_shows_with_its_data_and_assets(client_alice, make_run, note_panel):
    note_panel(styles=("css/note.css",), scripts=("js/note.js",))
    html = client_alice.get(f"/runs/{make_run().pk}").content.decode()
    assert "support-bot says hello alice@example.com" in html
    head = html[: html.index("</head>")]
    assert '<link rel="stylesheet" href="/static/css/note.css">' in head
    assert '<script src="/static/js/note.js" defer></script>' in head


def test_banners_sit_above_the_debugger_and_panels_below(client_alice, make_run, note_panel):
    note_panel(name="above", place=BANNER, context=lambda *, request, run: {"note": "above"})
    note_panel(name="below", place=PANEL, context=lambda *, request, run: {"note": "below"})
    html = client_alice.get(f"/runs/{make_run().pk}").content.decode()
    above, split, below = (html.index(mark) for mark in ("says above", 'class="run-split"', "says below"))
    assert html.index('id="run-banners"') < above < split < html.index('id="run-panels"') < below


def test_a_panel_whose_context_is_none_stays_out(client_alice, make_run, note_panel):
    note_panel(context=lambda *, request, run: None if run.is_finished else {"note": "live"})
    assert "test-note" not in client_alice.get(f"/runs/{make_run().pk}").content.decode()
    assert "says live" in client_alice.get(f"/runs/{make_run(end=False).pk}").content.decode()


def test_registering_again_replaces_rather_than_repeats(client_alice, make_run, note_panel):
    note_panel()
    note_panel(context=lambda *, request, run: {"note": "again"})
    html = client_alice.get(f"/runs/{make_run().pk}").content.decode()
    assert html.count('class="test-note"') == 1 and "says again" in html


def test_a_panel_goes_above_or_below_nothing_else():
    with pytest.raises(ValueError, match="'banner' or 'panel'"):
        RunPanel(name="x", template="x.html", place="sidebar")


def test_the_page_checks_ownership_before_any_panel_runs(client_alice, make_run, note_panel, bob_project):
    seen = []
    note_panel(context=lambda *, request, run: seen.append(run) or {"note": "x"})
    assert client_alice.get(f"/runs/{make_run(project=bob_project).pk}").status_code == 404
    assert seen == []


page = RunPage()
page.register_api("<uuid:run_id>/ping", lambda request, run_id: JsonResponse({"pong": str(run_id)}))
urlpatterns = [path("api/runs", include(page.api_urlpatterns()))]


@pytest.mark.urls(__name__)
def test_a_registered_route_is_served_under_api_runs_with_and_without_slash(client):
    run_id = "6f1c3b0e-3a5e-4c1e-9d0b-1a2b3c4d5e6f"
    for url in (f"/api/runs/{run_id}/ping", f"/api/runs/{run_id}/ping/"):
        assert client.get(url).json() == {"pong": run_id}


def test_the_real_api_runs_routes_include_what_apps_registered():
    from apps.runs import api_urls

    registered = {str(pattern.pattern) for pattern in run_page.api_urlpatterns()}
    assert registered and registered <= {str(pattern.pattern) for pattern in api_urls.urlpatterns}
