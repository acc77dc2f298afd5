"""Every page and JSON endpoint, each method, as owner, admin, member, viewer, an outsider and an anonymous
visitor, against the one role table (apps.orgs.roles.PERMISSIONS).

ROUTES names the action each route and method needs; what each person gets follows from the table:
success (2xx, or a redirect that is not to the login page) when their role allows it, 403 when it is too
low, 404 for someone outside the organization, a login redirect (pages) or 401 (API) when signed out.
A route the URL configuration has and ROUTES doesn't (nor NOT_ORG_SCOPED) fails the test.
"""

from dataclasses import dataclass

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from agentscope.tests.conftest import send_run
from apps.accounts.models import User
from apps.accounts.tokens import tokens_for_user
from apps.breakpoints.models import BreakpointHit
from apps.breakpoints.services import breakpoint_create
from apps.mcp.models import McpLog, McpTool
from apps.orgs.audit import Actor
from apps.orgs.models import Membership
from apps.orgs.roles import PERMISSIONS, Role, role_allows
from apps.orgs.services import invitation_create
from apps.projects.services import api_key_create, project_create, project_select
from apps.runs.prices import custom_price_create
from apps.testing import services as testing

pytestmark = pytest.mark.django_db

# Routes outside any organization's data, and why.
NOT_ORG_SCOPED = {
    "": "redirects to the dashboard or the login page",
    "login": "signing in",
    "logout": "signing out",
    "register": "signing up",
    "health": "for load balancers",
    "metrics": "Prometheus, with METRICS_TOKEN (agentscope/tests/test_metrics.py)",
    "invitations/<str:token>": "opened with an invitation's token (apps/projects/tests/test_invitations.py)",
    "api/invitations/accept": "any signed-in person with the invitation's token (apps/orgs/tests/test_api.py)",
    "api/auth/register": "signing up",
    "api/auth/login": "signing in",
    "api/auth/me": "the caller's own account",
    "api/auth/logout": "signing out",
    "api/schema/": "the OpenAPI schema",
    "api/docs/": "Swagger UI",
    "v1/traces": "OTLP ingest, with an API key",
}
SKIPPED_PREFIXES = ("admin/", "api/ingest/", "static/")  # the Django admin (staff); ingest, with an API key

# "object": the route names something of the organization (in its path, body or query), so an outsider
# gets 404. "own": the route works on the caller's current project or their own things, so an outsider
# acting on theirs succeeds.
OBJ, OWN = "object", "own"
SESSION = "chat-1"  # the run's session, for the sessions pages and API
# (route, method) -> (action, scope, what to send)
ROUTES = {
    # pages
    ("dashboard", "GET"): ("read", OWN, None),
    ("settings", "GET"): ("read", OWN, None),
    ("settings/prices", "GET"): ("read", OWN, None),
    ("settings/prices/<uuid:project_id>/new", "POST"): (
        "price.write",
        OBJ,
        {"model": "acme-x", "match": "exact", "input_per_million": "1", "output_per_million": "1"},
    ),
    ("settings/prices/<uuid:project_id>/<uuid:price_id>/delete", "POST"): ("price.write", OBJ, {}),
    ("projects/new", "GET"): ("read", OWN, None),
    ("projects/new", "POST"): ("read", OWN, {"name": "Another"}),  # in your own organization if not an admin here
    ("projects/<uuid:project_id>/edit", "POST"): ("project.edit", OBJ, {"name": "Renamed"}),
    ("projects/<uuid:project_id>/retention", "POST"): ("project.edit", OBJ, {"retention_days": "30"}),
    ("projects/<uuid:project_id>/delete", "POST"): ("project.delete", OBJ, lambda w: {"confirm_name": w.project.name}),
    ("projects/<uuid:project_id>/api-keys", "POST"): ("api_key.write", OBJ, {"name": "another"}),
    ("projects/<uuid:project_id>/api-keys/<uuid:key_id>/revoke", "POST"): ("api_key.write", OBJ, {}),
    ("orgs/new", "GET"): ("read", OWN, None),
    ("orgs/new", "POST"): ("read", OWN, {"name": "New org", "project_name": "First"}),  # anyone may found one
    ("orgs/<uuid:organization_id>/edit", "POST"): ("org.edit", OBJ, {"name": "Renamed org"}),
    ("orgs/<uuid:organization_id>/delete", "POST"): ("org.delete", OBJ, lambda w: {"confirm_name": w.org.name}),
    ("orgs/<uuid:organization_id>/members/<uuid:user_id>/role", "POST"): ("member.role", OBJ, {"role": "viewer"}),
    ("orgs/<uuid:organization_id>/members/<uuid:user_id>/remove", "POST"): ("member.remove", OBJ, {}),
    ("orgs/<uuid:organization_id>/invitations", "POST"): (
        "member.invite",
        OBJ,
        {"email": "new@example.com", "role": "viewer"},
    ),
    ("orgs/<uuid:organization_id>/invitations/<uuid:invitation_id>/resend", "POST"): ("member.invite", OBJ, {}),
    ("orgs/<uuid:organization_id>/invitations/<uuid:invitation_id>/revoke", "POST"): ("member.invite", OBJ, {}),
    ("runs", "GET"): ("read", OWN, None),
    ("sessions", "GET"): ("read", OWN, None),
    ("sessions/<str:session_id>", "GET"): ("read", OBJ, None),
    ("runs/<uuid:run_id>", "GET"): ("read", OBJ, None),
    ("runs/<uuid:run_id>/header", "GET"): ("read", OBJ, None),
    ("runs/<uuid:run_id>/inspector", "GET"): ("read", OBJ, None),
    ("runs/<uuid:run_id>/timeline", "GET"): ("read", OBJ, None),
    ("runs/<uuid:run_id>/timeline/page", "GET"): ("read", OBJ, None),
    ("runs/<uuid:run_id>/delete", "POST"): ("run.delete", OBJ, {}),
    ("runs/<uuid:run_id>/replay", "POST"): ("run.replay", OBJ, {"from_step": "1"}),
    ("runs/<uuid:run_id>/compare/<uuid:other_id>", "GET"): ("read", OBJ, None),
    ("runs/compare", "GET"): ("read", OWN, None),
    ("tests", "GET"): ("read", OWN, None),
    ("tests/new", "GET"): ("test.write", OWN, None),
    ("tests/new", "POST"): ("test.write", OWN, {}),
    ("tests/<uuid:test_id>", "GET"): ("read", OBJ, None),
    ("tests/<uuid:test_id>/edit", "GET"): ("test.write", OBJ, None),
    ("tests/<uuid:test_id>/edit", "POST"): ("test.write", OBJ, {}),
    ("tests/<uuid:test_id>/delete", "POST"): ("test.write", OBJ, {}),
    ("tests/<uuid:test_id>/toggle", "POST"): ("test.write", OBJ, {"enabled": "0"}),
    ("tests/<uuid:test_id>/run", "POST"): ("test.write", OBJ, lambda w: {"run_id": str(w.run)}),
    ("tests/<uuid:test_id>/backfill", "POST"): ("test.write", OBJ, {"count": "10"}),
    ("tests/<uuid:test_id>/backfills/<uuid:backfill_id>", "GET"): ("read", OBJ, None),
    ("breakpoints", "GET"): ("read", OWN, None),
    ("breakpoints/new", "GET"): ("breakpoint.write", OWN, None),
    ("breakpoints/new", "POST"): ("breakpoint.write", OWN, {}),
    ("breakpoints/test", "POST"): ("read", OWN, {"condition_type": "step_type", "step_type": "llm_call"}),
    ("breakpoints/<uuid:breakpoint_id>/edit", "GET"): ("breakpoint.write", OBJ, None),
    ("breakpoints/<uuid:breakpoint_id>/edit", "POST"): ("breakpoint.write", OBJ, {}),
    ("breakpoints/<uuid:breakpoint_id>/toggle", "POST"): ("breakpoint.write", OBJ, {"enabled": "0"}),
    ("breakpoints/<uuid:breakpoint_id>/delete", "POST"): ("breakpoint.write", OBJ, {}),
    ("runs/<uuid:run_id>/breakpoint", "GET"): ("read", OBJ, None),
    ("runs/<uuid:run_id>/breakpoint/resume", "POST"): (
        "run.resume",
        OBJ,
        lambda w: {"decision": "continue", "hit_id": str(w.hit)},
    ),
    ("mcp", "GET"): ("read", OWN, None),
    ("mcp/tools/<uuid:tool_id>", "GET"): ("read", OBJ, None),
    ("mcp/logs/<uuid:log_id>", "GET"): ("read", OBJ, None),
    # the JSON API
    ("api/projects/<uuid:project_id>/stats", "GET"): ("read", OBJ, None),
    ("api/projects/<uuid:project_id>/prices", "GET"): ("read", OBJ, None),
    ("api/projects/<uuid:project_id>/prices", "POST"): (
        "price.write",
        OBJ,
        {"model": "acme-y", "input_per_million": "1", "output_per_million": "1"},
    ),
    ("api/projects/<uuid:project_id>/prices/<uuid:price_id>", "GET"): ("read", OBJ, None),
    ("api/projects/<uuid:project_id>/prices/<uuid:price_id>", "PATCH"): (
        "price.write",
        OBJ,
        {"output_per_million": "2"},
    ),
    ("api/projects/<uuid:project_id>/prices/<uuid:price_id>", "DELETE"): ("price.write", OBJ, None),
    ("api/projects", "GET"): ("read", OWN, None),
    ("api/projects", "POST"): ("project.create", OBJ, lambda w: {"name": "P", "organization_id": str(w.org.pk)}),
    ("api/projects/<uuid:project_id>", "GET"): ("read", OBJ, None),
    ("api/projects/<uuid:project_id>", "PATCH"): ("project.edit", OBJ, {"name": "Renamed"}),
    ("api/projects/<uuid:project_id>", "DELETE"): ("project.delete", OBJ, None),
    ("api/projects/<uuid:project_id>/api-keys", "GET"): ("read", OBJ, None),
    ("api/projects/<uuid:project_id>/api-keys", "POST"): ("api_key.write", OBJ, {"name": "k"}),
    ("api/projects/<uuid:project_id>/api-keys/<uuid:key_id>", "DELETE"): ("api_key.write", OBJ, None),
    ("api/orgs", "GET"): ("read", OWN, None),
    ("api/orgs", "POST"): ("read", OWN, {"name": "New org"}),  # anyone may found an organization
    ("api/orgs/<uuid:organization_id>", "GET"): ("read", OBJ, None),
    ("api/orgs/<uuid:organization_id>", "PATCH"): ("org.edit", OBJ, {"name": "Renamed"}),
    ("api/orgs/<uuid:organization_id>", "DELETE"): ("org.delete", OBJ, None),
    ("api/orgs/<uuid:organization_id>/members", "GET"): ("read", OBJ, None),
    ("api/orgs/<uuid:organization_id>/members/<uuid:user_id>", "PATCH"): ("member.role", OBJ, {"role": "viewer"}),
    ("api/orgs/<uuid:organization_id>/members/<uuid:user_id>", "DELETE"): ("member.remove", OBJ, None),
    ("api/orgs/<uuid:organization_id>/invitations", "GET"): ("member.invite", OBJ, None),
    ("api/orgs/<uuid:organization_id>/invitations", "POST"): (
        "member.invite",
        OBJ,
        {"email": "new@example.com", "role": "viewer"},
    ),
    ("api/orgs/<uuid:organization_id>/invitations/<uuid:invitation_id>", "DELETE"): ("member.invite", OBJ, None),
    ("api/orgs/<uuid:organization_id>/invitations/<uuid:invitation_id>/resend", "POST"): ("member.invite", OBJ, {}),
    ("api/orgs/<uuid:organization_id>/audit-log", "GET"): ("audit.read", OBJ, None),
    ("api/runs", "GET"): ("read", OBJ, "?project_id={project}"),
    ("api/sessions", "GET"): ("read", OBJ, "?project_id={project}"),
    ("api/sessions/<str:session_id>", "GET"): ("read", OBJ, None),
    ("api/runs/<uuid:run_id>", "GET"): ("read", OBJ, None),
    ("api/runs/<uuid:run_id>", "DELETE"): ("run.delete", OBJ, None),
    ("api/runs/<uuid:run_id>/steps", "GET"): ("read", OBJ, None),
    ("api/runs/<uuid:run_id>/timeline", "GET"): ("read", OBJ, None),
    ("api/runs/<uuid:run_id>/replay", "POST"): ("run.replay", OBJ, {"from_step": 1}),
    ("api/runs/<uuid:run_id>/compare/<uuid:other_id>", "GET"): ("read", OBJ, None),
    ("api/runs/<uuid:run_id>/resume", "POST"): ("run.resume", OBJ, {"action": "continue"}),
    ("api/tests", "GET"): ("read", OBJ, "?project_id={project}"),
    ("api/tests", "POST"): (
        "test.write",
        OBJ,
        lambda w: {
            "project_id": str(w.project.pk),
            "name": "T",
            "test_type": "assertion",
            "config": {"target": {"agent_name": "a"}, "assertions": [{"op": "no_errors"}]},
        },
    ),
    ("api/tests/<uuid:test_id>", "GET"): ("read", OBJ, None),
    ("api/tests/<uuid:test_id>", "PATCH"): ("test.write", OBJ, {"name": "Renamed"}),
    ("api/tests/<uuid:test_id>", "DELETE"): ("test.write", OBJ, None),
    ("api/tests/<uuid:test_id>/run", "POST"): ("test.write", OBJ, lambda w: {"run_id": str(w.run)}),
    ("api/tests/<uuid:test_id>/runs", "GET"): ("read", OBJ, None),
    ("api/tests/<uuid:test_id>/backfill", "POST"): ("test.write", OBJ, {"count": 10}),
    ("api/tests/<uuid:test_id>/backfills/<uuid:backfill_id>", "GET"): ("read", OBJ, None),
    ("api/test-runs", "GET"): ("read", OWN, None),
    ("api/test-runs/<uuid:test_run_id>", "GET"): ("read", OBJ, None),
    ("api/breakpoints", "GET"): ("read", OBJ, "?project_id={project}"),
    ("api/breakpoints", "POST"): (
        "breakpoint.write",
        OBJ,
        lambda w: {
            "project_id": str(w.project.pk),
            "condition_type": "step_type",
            "condition_value": {"step_type": "llm_call"},
        },
    ),
    ("api/breakpoints/test", "POST"): (
        "read",
        OBJ,
        lambda w: {
            "project_id": str(w.project.pk),
            "condition_type": "step_type",
            "condition_value": {"step_type": "llm_call"},
        },
    ),
    ("api/breakpoints/<uuid:breakpoint_id>", "GET"): ("read", OBJ, None),
    ("api/breakpoints/<uuid:breakpoint_id>", "PATCH"): ("breakpoint.write", OBJ, {"name": "Renamed"}),
    ("api/breakpoints/<uuid:breakpoint_id>", "DELETE"): ("breakpoint.write", OBJ, None),
    ("api/breakpoints/<uuid:breakpoint_id>/toggle", "POST"): ("breakpoint.write", OBJ, {"enabled": False}),
    ("api/mcp/tools", "GET"): ("read", OBJ, "?project_id={project}"),
    ("api/mcp/tools/<uuid:tool_id>", "GET"): ("read", OBJ, None),
    ("api/mcp/logs", "GET"): ("read", OBJ, "?project_id={project}"),
    ("api/mcp/logs/<uuid:log_id>", "GET"): ("read", OBJ, None),
    ("api/mcp/stats", "GET"): ("read", OBJ, "?project_id={project}"),
}
PEOPLE = ("anonymous", "outsider", "viewer", "member", "admin", "owner")
ALL_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def routes() -> dict[str, object]:
    """Each route of the site (a bare one where slash_path also made one with a slash) -> its view."""
    found = {}

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if route.startswith(SKIPPED_PREFIXES) or route.startswith("^"):
                continue
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and not (route.endswith("/") and route[:-1] in found):
                found[route] = pattern.callback

    walk(get_resolver().url_patterns, "")
    return found


def drf_methods(view) -> set[str] | None:
    cls = getattr(view, "cls", None)
    names = getattr(cls, "http_method_names", None)
    if names is None or getattr(cls, "__name__", "") != "WrappedAPIView":
        return None
    return {name.upper() for name in names} - {"OPTIONS", "HEAD"}


def test_every_route_and_method_is_in_the_table():
    found = routes()
    listed = {route for route, _ in ROUTES} | NOT_ORG_SCOPED.keys()
    assert set(found) - listed == set(), "give each new route its action in ROUTES (or say why not in NOT_ORG_SCOPED)"
    assert listed - set(found) == set(), "a route listed has no URL any more"
    for route, view in found.items():
        methods = drf_methods(view)
        if methods is not None and route not in NOT_ORG_SCOPED:
            assert methods == {method for r, method in ROUTES if r == route}, f"{route}: methods differ from ROUTES"
    assert {action for action, _, _ in ROUTES.values()} <= PERMISSIONS.keys()


@dataclass
class World:
    org: object
    project: object
    key: object
    run: object
    other: object
    paused: object
    hit: object
    test: object
    test_run: object
    backfill: object
    breakpoint: object
    tool: object
    log: object
    invitation: object
    target: object  # a member the owner and admins act on
    price: object = None

    def path(self, route: str) -> str:
        values = {
            "project_id": self.project.pk, "key_id": self.key.pk, "organization_id": self.org.pk,
            "user_id": self.target.pk, "invitation_id": self.invitation.pk, "run_id": self.run,
            "other_id": self.other, "test_id": self.test.pk, "backfill_id": self.backfill.pk,
            "test_run_id": self.test_run.pk, "breakpoint_id": self.breakpoint.pk, "tool_id": self.tool.pk, "log_id": self.log.pk,
            "price_id": self.price.pk,
        }  # fmt: skip
        if route.startswith(("runs/<uuid:run_id>/breakpoint", "api/runs/<uuid:run_id>/resume")):
            values["run_id"] = self.paused
        path = route.replace("<str:session_id>", SESSION)
        for name, value in values.items():
            path = path.replace(f"<uuid:{name}>", str(value))
        return "/" + path


@pytest.fixture
def people(db) -> dict[str, User]:
    made = {name: User.objects.create_user(email=f"{name}@example.com", password="x") for name in PEOPLE[1:]}
    made["target"] = User.objects.create_user(email="target@example.com", password="x")
    return made


def build_world(people) -> World:
    owner = people["owner"]
    project = project_create(user=owner, name="Team agents")
    org = project.organization
    for role in ("admin", "member", "viewer", "target"):
        Membership.objects.update_or_create(
            organization=org, user=people[role], defaults={"role": Role.MEMBER if role == "target" else role}
        )
    for role in ("admin", "member", "viewer"):
        project_select(user=people[role], project=project)
    project_create(user=people["outsider"], name="Elsewhere")
    key, raw = api_key_create(project=project, name="ci")
    ingest = APIClient()
    ingest.credentials(HTTP_X_AGENTSCOPE_KEY=raw)
    step = {"step_type": "llm_call", "name": "plan", "input": {"q": 1}, "output": {"a": 2}}
    run = send_run(ingest, agent="a", steps=[step, {**step, "name": "answer"}], session=SESSION)
    other = send_run(ingest, agent="a", steps=[step])
    breakpoint = breakpoint_create(project=project, condition_type="step_name", condition_value={"pattern": "refund"})
    paused = send_run(ingest, agent="a", end=False, steps=[{"step_type": "tool_call", "name": "refund", "input": {}}])
    hit = BreakpointHit.objects.get(run_id=paused)
    config = {"target": {"agent_name": "a"}, "assertions": [{"op": "no_errors"}]}
    test = testing.test_create(project=project, name="No errors", test_type="assertion", config=config)
    test_run = testing.test_execute(test=test, run_id=run)
    backfill = testing.test_backfill_start(test=test, count=10)
    tool = McpTool.objects.create(project=project, server_name="docs", tool_name="search")
    log = McpLog.objects.create(project=project, tool=tool, server_name="docs", log_type="response")
    invitation, _ = invitation_create(
        organization=org, email="invited@example.com", role="viewer", by_role="owner", actor=Actor(user=owner),
        accept_url=lambda raw: raw,
    )  # fmt: skip
    return World(
        org=org, project=project, key=key, run=run, other=other, paused=paused, hit=hit.pk, test=test,
        test_run=test_run, backfill=backfill, breakpoint=breakpoint, tool=tool, log=log, invitation=invitation,
        target=people["target"],
        price=custom_price_create(project=project, data={"model": "acme-7b", "input_per_million": 1, "output_per_million": 2}),
    )  # fmt: skip


def send(person: str, people, route: str, method: str, world: World, body):
    path = world.path(route)
    if isinstance(body, str):  # a query string
        path, body = path + body.format(project=world.project.pk), None
    elif callable(body):
        body = body(world)
    if route.startswith("api/"):
        client = APIClient()
        if person != "anonymous":
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens_for_user(people[person])['access']}")
        return client.generic(method, path, data=_json(body), content_type="application/json")
    from django.test import Client

    client = Client()
    if person != "anonymous":
        client.force_login(people[person])
    return client.get(path) if method == "GET" else client.post(path, body or {})


def _json(body) -> str:
    import json

    return json.dumps(body) if body is not None else ""


def expected(person: str, route: str, action: str, scope: str) -> str:
    if person == "anonymous":
        return "signed out"
    if person == "outsider":
        return "ok" if scope == OWN else "404"
    return "ok" if role_allows(person, action) else "403"


def outcome(response, route: str) -> str:
    status = response.status_code
    if status in (301, 302) and "/login" in response.get("Location", ""):
        return "signed out"
    if status == 401 and route.startswith("api/"):
        return "signed out"
    if status in (200, 201, 202, 204, 302):
        return "ok"
    return str(status)


@pytest.mark.parametrize("route,method", sorted(ROUTES), ids=lambda value: value)
def test_each_person_gets_what_their_role_allows(route, method, people, mailoutbox):
    action, scope, body = ROUTES[(route, method)]
    world = build_world(people)
    for person in PEOPLE:
        response = send(person, people, route, method, world, body)
        want = expected(person, route, action, scope)
        got = outcome(response, route)
        assert got == want, f"{person} {method} {route}: {response.status_code} {response.content[:300]!r}"
        if want == "403" and route.startswith("api/"):
            needed = PERMISSIONS[action].value
            assert f"needs the {needed} role" in response.json()["detail"]
        if want == "ok" and method != "GET":
            world = build_world(people)  # what it changed (deleted, revoked, renamed) is made again
