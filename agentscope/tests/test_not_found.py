"""The product's 404 page: in production (handler404) and under DEBUG, which `make run` uses."""

import importlib

import pytest
from django.urls import clear_url_caches

import agentscope.urls


@pytest.fixture
def debug_urls(settings):
    """The URL configuration as `make run` builds it, with DEBUG on."""
    settings.DEBUG = True
    importlib.reload(agentscope.urls)
    clear_url_caches()
    yield
    settings.DEBUG = False
    importlib.reload(agentscope.urls)
    clear_url_caches()


def test_an_unknown_page_is_the_products_404(client, db):
    response = client.get("/no-such-page")
    assert response.status_code == 404 and b"We couldn't find that page" in response.content


@pytest.mark.usefixtures("debug_urls")
class TestUnderDebug:
    def test_an_unknown_page_is_the_products_404_not_djangos(self, client, db):
        response = client.get("/no-such-page/deeper")
        assert response.status_code == 404
        assert b"We couldn't find that page" in response.content
        assert b"Using the URLconf" not in response.content  # Django's technical 404

    def test_an_unknown_api_path_answers_json(self, client, db):
        response = client.get("/api/no-such-thing")
        assert response.status_code == 404 and response.json() == {"detail": "Not found.", "errors": {}}

    def test_known_pages_still_answer(self, client_alice):
        assert client_alice.get("/runs").status_code == 200
