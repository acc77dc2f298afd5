"""render_htmx(): the page, or only the partial htmx asks for, never cached for the other."""

from pathlib import Path

import pytest
from django.test import RequestFactory
from django_htmx.middleware import HtmxDetails

from apps.core.htmx import htmx_target, render_htmx

PAGE = "core_tests/page.html"
CONTEXT = {"items": "a b", "count": 2}


@pytest.fixture(autouse=True)
def templates(settings):
    engine = settings.TEMPLATES[0]
    settings.TEMPLATES = [{**engine, "DIRS": [*engine["DIRS"], Path(__file__).parent / "templates"]}]


def request(**headers):
    made = RequestFactory().get("/page", headers=headers)
    made.htmx = HtmxDetails(made)
    return made


def htmx(target=None, **headers):
    return request(**{"HX-Request": "true", **({"HX-Target": target} if target else {}), **headers})


def html(response) -> str:
    return response.content.decode().strip()


def test_a_plain_request_gets_the_page():
    response = render_htmx(request(), PAGE, CONTEXT, partial="list")
    assert html(response).startswith("<main>") and response["Vary"] == "HX-Request, HX-Target"


def test_htmx_gets_the_partial():
    assert html(render_htmx(htmx(), PAGE, CONTEXT, partial="list")) == '<ul id="list">a b</ul>'


def test_the_partial_can_follow_the_element_htmx_targets():
    partials = {"list": "list", "count": "count"}
    assert html(render_htmx(htmx("count"), PAGE, CONTEXT, partial=partials)) == '<b id="count">2</b>'
    assert html(render_htmx(htmx("elsewhere"), PAGE, CONTEXT, partial=partials)).startswith("<main>")
    assert html(render_htmx(request(), PAGE, CONTEXT, partial=partials)).startswith("<main>")


def test_a_history_restore_gets_the_page_as_a_reload_would():
    restore = htmx("list", **{"HX-History-Restore-Request": "true"})
    assert htmx_target(restore) is None
    assert html(render_htmx(restore, PAGE, CONTEXT, partial="list")).startswith("<main>")
    assert html(render_htmx(restore, PAGE, CONTEXT, partial={"list": "list"})).startswith("<main>")


def test_it_keeps_the_status():
    assert render_htmx(htmx(), PAGE, CONTEXT, partial="count", status=422).status_code == 422
