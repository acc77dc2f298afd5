"""Every page of the site, found from the URL configuration, with the address to open it at.

A new URL must be put in PAGES (with how to open it) or in NOT_PAGES (with why it isn't one): the
test that walks the URL configuration fails until it is, so the phone and accessibility checks
always cover every page.
"""

from django.urls import URLPattern, URLResolver, get_resolver

# name -> the paths to open, from the seeded Site (agentscope/tests/conftest.py)
PAGES = {
    "accounts:login": lambda s: ["/login"],
    "projects:register": lambda s: ["/register"],
    "dashboard:index": lambda s: ["/dashboard", "/dashboard?period=24h", "/dashboard?period=30d"],
    "projects:settings": lambda s: [
        "/settings",
        "/settings?tab=api-keys",
        "/settings?tab=organization",
        "/settings?tab=members",
        "/settings?tab=audit",
    ],
    "runs:prices": lambda s: ["/settings/prices"],
    "projects:new": lambda s: ["/projects/new"],
    "projects:org_new": lambda s: ["/orgs/new"],
    "runs:list": lambda s: [
        "/runs",
        "/runs?status=failed",
        "/runs?q=mars",
        "/runs?has_error=true&tool=read_document&latency_min=0&metadata=env%3Dci",
    ],
    "runs:sessions": lambda s: ["/sessions"],
    "runs:session": lambda s: [f"/sessions/{s.session}"],
    "runs:detail": lambda s: [
        f"/runs/{s.run}",
        f"/runs/{s.run}?step=2",
        f"/runs/{s.failed_run}",
        f"/runs/{s.paused_run}",
        f"/runs/{s.replay}",
    ],
    "runs:compare": lambda s: [f"/runs/{s.run}/compare/{s.failed_run}"],
    "testing:list": lambda s: ["/tests"],
    "testing:new": lambda s: ["/tests/new"],
    "testing:detail": lambda s: [f"/tests/{s.test}"],
    "testing:edit": lambda s: [f"/tests/{s.test}/edit"],
    "breakpoints:list": lambda s: ["/breakpoints"],
    "breakpoints:new": lambda s: ["/breakpoints/new"],
    "breakpoints:edit": lambda s: [f"/breakpoints/{s.breakpoint}/edit"],
    "mcp:index": lambda s: ["/mcp", "/mcp?tab=logs", "/mcp?tab=stats"],
    "mcp:tool": lambda s: [f"/mcp/tools/{s.tool}"],
    "mcp:log": lambda s: [f"/mcp/logs/{s.log}"],
}
SIGNED_OUT = ["/login", "/register"]  # a signed-in person is sent on to the dashboard
# Pages no URL name leads to: the 404 page, and the admin's
OTHER_PAGES = ["/no-such-page"]
ADMIN_PAGES = ["/admin/", "/admin/runs/runstep/", "/admin/runs/run/", "/admin/mcp/mcplog/"]

NOT_PAGES = {
    "health": "JSON for load balancers",
    "metrics": "Prometheus text behind METRICS_TOKEN",
    "dashboard:home": "redirects to the dashboard or the login page",
    "accounts:logout": "POST only",
    "projects:update": "POST only",
    "projects:retention": "POST only",
    "projects:delete": "POST only",
    "projects:api_key_create": "POST only",
    "projects:api_key_revoke": "POST only",
    "projects:org_update": "POST only",
    "projects:org_delete": "POST only",
    "projects:member_role": "POST only",
    "projects:member_remove": "POST only",
    "projects:invitation_create": "POST only",
    "projects:invitation_resend": "POST only",
    "projects:invitation_revoke": "POST only",
    "projects:invitation": "opened with an invitation's token: agentscope/tests/test_browser_teams.py opens it",
    "runs:header": "a part of runs:detail; without htmx it redirects there",
    "runs:inspector": "a part of runs:detail; without htmx it redirects there",
    "runs:timeline": "a part of runs:detail; without htmx it redirects there",
    "runs:timeline_page": "a part of runs:detail; without htmx it redirects there",
    "runs:delete": "POST only",
    "runs:replay": "POST only",
    "runs:compare_pick": "redirects to runs:compare",
    "runs:price_create": "POST only",
    "runs:price_delete": "POST only",
    "testing:delete": "POST only",
    "testing:toggle": "POST only",
    "testing:run_now": "POST only",
    "testing:backfill": "POST only",
    "testing:backfill_progress": "a part of testing:detail, polled while a backfill runs",
    "breakpoints:test": "POST only",
    "breakpoints:toggle": "POST only",
    "breakpoints:delete": "POST only",
    "breakpoints:run_controls": "a part of runs:detail (the paused run's controls)",
    "breakpoints:run_resume": "POST only",
}
SKIPPED_PREFIXES = ("api/", "admin/", "v1/")  # the JSON and OTLP APIs; the admin's pages are in ADMIN_PAGES


def url_names() -> set[str]:
    """The names of every URL outside the JSON API and the admin."""
    names = set()

    def walk(patterns, prefix: str, namespace: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if route.startswith(SKIPPED_PREFIXES):
                continue
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern.url_patterns, route, inner)
            elif isinstance(pattern, URLPattern) and pattern.name:
                names.add(namespace + pattern.name)

    walk(get_resolver().url_patterns, "", "")
    return names


def page_paths(site, *, signed_in: bool = False) -> list[str]:
    paths = [path for build in PAGES.values() for path in build(site)] + OTHER_PAGES
    return [path for path in paths if not (signed_in and path in SIGNED_OUT)]
