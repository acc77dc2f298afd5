"""Every page, in real Chromium: nothing wider than a 390 px phone, and no serious or critical WCAG 2.2
AA violation found by axe-core. The pages come from the URL configuration (agentscope/tests/pages.py),
so a new page is checked as soon as it has a URL."""

from pathlib import Path
from pprint import pformat

import pytest
from django.conf import settings

from agentscope.tests.pages import ADMIN_PAGES, SIGNED_OUT, page_paths
from apps.accounts.models import User

AXE = Path(settings.BASE_DIR) / "static" / "vendor" / "axe-core" / "axe-4.14.1.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}

# What sticks out past the right edge of the window. Code and JSON scroll sideways inside their own
# box by design (the box itself must fit); anything else out there can't be reached on a phone.
SCROLLERS = "pre, .json-tree"
# Django's admin scrolls a changelist's table sideways in its own box on a phone, by its design.
ADMIN_SCROLLERS = SCROLLERS + ", #changelist .results"
OVERFLOW = """(scrollers) => {
  const width = document.documentElement.clientWidth;
  const found = [];
  if (document.documentElement.scrollWidth > width) found.push(`the page scrolls to ${document.documentElement.scrollWidth} px`);
  for (const element of document.body.querySelectorAll("*")) {
    const box = element.getBoundingClientRect();
    if (!box.width || !box.height || box.right <= width + 1) continue;
    if (element.parentElement.closest(scrollers)) continue;
    if (getComputedStyle(element).visibility === "hidden") continue;
    if (found.some((text) => text.element && text.element.contains(element))) continue;
    const name = element.tagName.toLowerCase() + (element.id ? "#" + element.id : "")
      + (element.classList.length ? "." + [...element.classList].join(".") : "");
    found.push({element, text: `${name} reaches ${Math.round(box.right)} px`});
  }
  return found.map((item) => item.text || item).slice(0, 8);
}"""

AXE_RUN = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
  return result.violations
    .filter((violation) => ["serious", "critical"].includes(violation.impact))
    .map((violation) => `${violation.id} (${violation.impact}, ${violation.nodes.length}): ${violation.help}: `
      + violation.nodes.slice(0, 3).map((node) => node.target.join(" ") + " " + (node.failureSummary || "").split("\\n")[1]).join(" | "));
}"""


def _sign_in(page, live_server, client, user):
    client.force_login(user)
    cookie = {"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}
    page.context.add_cookies([cookie])


def _open(page, path):
    page.goto(path)
    page.wait_for_load_state("networkidle")


def _check_pages(page, paths, *, viewport, scrollers=SCROLLERS):
    page.set_viewport_size(viewport)
    problems = {}
    for path in paths:
        _open(page, path)
        if viewport == PHONE:
            found = page.evaluate(OVERFLOW, scrollers)
        else:
            page.add_script_tag(path=str(AXE))
            found = page.evaluate(AXE_RUN, AXE_TAGS)
        if found:
            problems[path] = found
    assert not problems, pformat(problems, width=200)


pytestmark = pytest.mark.browser


@pytest.fixture
def signed_in(page, live_server, client, alice, site):
    _sign_in(page, live_server, client, alice)
    return page


def test_nothing_on_any_page_is_wider_than_a_phone(signed_in, site):
    _check_pages(signed_in, page_paths(site, signed_in=True), viewport=PHONE)


def test_no_page_has_a_serious_accessibility_violation(signed_in, site):
    _check_pages(signed_in, page_paths(site, signed_in=True), viewport=DESKTOP)


def test_signed_out_pages_fit_a_phone_and_pass_axe(page):
    paths = [*SIGNED_OUT, "/no-such-page"]
    _check_pages(page, paths, viewport=PHONE)
    _check_pages(page, paths, viewport=DESKTOP)


def test_the_admin_fits_a_phone_and_passes_axe(page, live_server, client, site):
    root = User.objects.create_superuser(email="root@example.com", password="x")
    _sign_in(page, live_server, client, root)
    _check_pages(page, ADMIN_PAGES, viewport=PHONE, scrollers=ADMIN_SCROLLERS)
    _check_pages(page, ADMIN_PAGES, viewport=DESKTOP)


def test_the_admin_wears_the_dark_theme_and_a_failed_step_takes_one_line(page, live_server, client, site):
    root = User.objects.create_superuser(email="root@example.com", password="x")
    _sign_in(page, live_server, client, root)
    _open(page, "/admin/runs/runstep/")
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(10, 10, 15)"
    assert "AgentScope" in page.locator("#site-name").inner_text()
    failed = page.locator("#result_list tbody tr", has=page.locator(".json-preview[title*=KeyError]")).first
    passed = page.locator("#result_list tbody tr", has_text="calculator").first
    assert failed.bounding_box()["height"] <= passed.bounding_box()["height"] + 2
