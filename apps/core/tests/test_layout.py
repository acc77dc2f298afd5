"""The root layout every page extends: its head, as the browser gets it."""

import json
import re

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/login", "/register"])
def test_the_layout_leaks_no_template_syntax(client, path):
    html = client.get(path).content.decode()
    assert not re.search(r"\{[#%]|[#%]\}", html)


def test_htmx_is_configured_without_injected_styles_or_settling(client):
    html = client.get("/login").content.decode()
    config = re.search(r"<meta name=\"htmx-config\" content='([^']*)'>", html)
    assert json.loads(config.group(1)) == {
        "includeIndicatorStyles": False,
        "attributesToSettle": [],
        "defaultSettleDelay": 0,
    }
