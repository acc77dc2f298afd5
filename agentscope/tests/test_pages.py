"""The list of pages the browser checks walk (agentscope/tests/pages.py) stays complete."""

from agentscope.tests.pages import NOT_PAGES, PAGES, url_names


def test_every_url_is_a_page_checked_or_said_why_not():
    names = url_names()
    assert names - PAGES.keys() - NOT_PAGES.keys() == set(), "put each new URL in PAGES or NOT_PAGES"
    assert (PAGES.keys() | NOT_PAGES.keys()) - names == set(), "a name listed has no URL any more"
