"""Fixtures shared by every app's tests: alice owns things, bob is another tenant."""

import pytest
from django.core.cache import caches
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.accounts.tokens import tokens_for_user
from apps.projects import throttling as key_throttling
from apps.projects.services import api_key_create, project_create

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(autouse=True)
def _fresh_throttles():
    """Every test starts with no sign-in attempt, sign-up or wrong key counted against 127.0.0.1."""
    caches["throttles"].clear()
    key_throttling.BLOCKED.clear()  # what this process remembers of addresses past the wrong-key limit


@pytest.fixture
def alice(db) -> User:
    return User.objects.create_user(email="alice@example.com", password=PASSWORD, name="Alice")


@pytest.fixture
def bob(db) -> User:
    return User.objects.create_user(email="bob@example.com", password=PASSWORD, name="Bob")


@pytest.fixture
def project(alice):
    return project_create(user=alice, name="Alice's agents", description="Support bots")


@pytest.fixture
def bob_project(bob):
    return project_create(user=bob, name="Bob's agents")


@pytest.fixture
def api_key(project):
    """(ApiKey, raw key) for alice's project."""
    return api_key_create(project=project, name="ci")


@pytest.fixture
def client_alice(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def api(alice) -> APIClient:
    """An API client with alice's JWT."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens_for_user(alice)['access']}")
    return client


@pytest.fixture
def anon_api() -> APIClient:
    return APIClient()


@pytest.fixture
def ingest(api_key) -> APIClient:
    """An API client holding alice's project API key."""
    client = APIClient()
    client.credentials(HTTP_X_AGENTSCOPE_KEY=api_key[1])
    return client


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium driven by Playwright. Missing Chromium skips, except where
    AGENTSCOPE_REQUIRE_BROWSER=1 (CI), where it fails: a skipped browser test proves nothing."""
    import os
    import shutil

    path = os.environ.get("CHROMIUM_PATH", CHROMIUM)
    if not shutil.which(path):
        message = f"Chromium not found at {path} (apt-get install chromium)"
        if os.environ.get("AGENTSCOPE_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    # Playwright's sync API runs an event loop in this thread; our ORM calls in tests are sync.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, live_server):
    # Tests evaluate strings in the page (wait_for_function), which our CSP forbids; test_browser_csp.py
    # checks the pages under the real policy.
    context = chromium.new_context(base_url=live_server.url, viewport={"width": 1400, "height": 900}, bypass_csp=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def pytest_collection_modifyitems(config, items):
    """Browser tests run last: Playwright's sync API keeps an event loop running in the main thread
    for the session, which would break later tests that call asyncio.run()."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Where AGENTSCOPE_REQUIRE_BROWSER=1 (CI), a skipped browser test fails: it proved nothing."""
    import os

    outcome = yield
    report = outcome.get_result()
    if report.skipped and item.get_closest_marker("browser") and os.environ.get("AGENTSCOPE_REQUIRE_BROWSER") == "1":
        report.outcome = "failed"
        report.longrepr = f"browser test skipped where browsers are required: {report.longrepr}"
