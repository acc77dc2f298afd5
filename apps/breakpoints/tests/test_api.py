import pytest

from apps.breakpoints.models import Breakpoint, BreakpointHit, HitStatus
from apps.breakpoints.services import breakpoint_create

pytestmark = pytest.mark.django_db

URL = "/api/breakpoints"


def create(api, project, **body):
    body = {
        "project_id": str(project.id),
        "condition_type": "step_type",
        "condition_value": {"step_type": "tool_call"},
        **body,
    }
    return api.post(URL, body, format="json")


class TestList:
    def test_it_lists_a_projects_breakpoints(self, api, project, make_breakpoint, bob_project):
        mine = make_breakpoint(name="search")
        make_breakpoint(name="bob's", project=bob_project)
        response = api.get(f"{URL}?project_id={project.id}")
        assert response.status_code == 200
        assert [b["id"] for b in response.json()["results"]] == [str(mine.id)]
        assert response.json()["results"][0]["condition_value"] == {"pattern": "search", "match": "exact"}

    def test_without_a_project_it_lists_all_of_mine_only(self, api, alice, make_breakpoint, bob_project):
        make_breakpoint(name="one")
        make_breakpoint(name="bob's", project=bob_project)
        assert [b["name"] for b in api.get(f"{URL}/").json()["results"]] == ["one"]

    def test_it_paginates(self, api, project, make_breakpoint):
        for i in range(3):
            make_breakpoint(name=f"b{i}")
        body = api.get(f"{URL}?project_id={project.id}&page_size=2").json()
        assert len(body["results"]) == 2 and body["count"] == 3 and "page=2" in body["next"]

    def test_it_checks_ownership(self, api, bob_project):
        assert api.get(f"{URL}?project_id={bob_project.id}").status_code == 404

    def test_a_bad_project_id_is_a_400(self, api):
        response = api.get(f"{URL}?project_id=nope")
        assert response.status_code == 400 and "project_id" in response.json()["errors"]

    def test_it_pins_its_query_count(self, api, project, make_breakpoint, django_assert_max_num_queries):
        for i in range(20):
            make_breakpoint(name=f"b{i}")
        with django_assert_max_num_queries(5):
            assert len(api.get(f"{URL}?project_id={project.id}").json()["results"]) == 20

    def test_it_requires_login(self, anon_api, project):
        assert anon_api.get(f"{URL}?project_id={project.id}").status_code == 401
        assert create(anon_api, project).status_code == 401


class TestCreate:
    def test_it_creates(self, api, project):
        response = create(api, project, name="Before tools", agent_name="researcher")
        assert response.status_code == 201
        body = response.json()
        assert (body["name"], body["agent_name"], body["enabled"]) == ("Before tools", "researcher", True)
        breakpoint = Breakpoint.objects.get(pk=body["id"])
        assert breakpoint.project == project and breakpoint.condition_value == {"step_type": "tool_call"}

    def test_it_creates_each_condition_type(self, api, project):
        values = {
            "step_name": {"pattern": "search*", "match": "glob"},
            "custom": {"expression": "contains(step.input.query, 'Paris')"},
            "on_error": {},
        }
        for condition_type, value in values.items():
            response = create(api, project, condition_type=condition_type, condition_value=value)
            assert response.status_code == 201, response.json()
            assert response.json()["condition_value"] == value
        assert create(api, project, condition_type="on_error", condition_value=None).status_code == 201

    def test_an_invalid_expression_is_a_400_naming_the_field(self, api, project):
        response = create(api, project, condition_type="custom", condition_value={"expression": "step.input["})
        assert response.status_code == 400
        assert set(response.json()) == {"detail", "errors"}
        assert "not valid JMESPath" in response.json()["errors"]["condition_value"][0]
        assert not Breakpoint.objects.exists()

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"condition_type": "whenever"}, "condition_type"),
            ({"condition_value": {"step_type": "tool"}}, "condition_value"),
            ({"condition_type": "step_name", "condition_value": {"pattern": "x", "match": "regex"}}, "condition_value"),
            ({"condition_value": None}, "condition_value"),
            ({"name": "x" * 256}, "name"),
            ({"project_id": "nope"}, "project_id"),
        ],
    )
    def test_bad_input_is_a_400_naming_the_field(self, api, project, body, field):
        response = create(api, project, **body)
        assert response.status_code == 400
        assert field in response.json()["errors"]

    def test_it_checks_ownership(self, api, bob_project):
        assert create(api, bob_project).status_code == 404
        assert not Breakpoint.objects.exists()


class TestDetail:
    def test_it_updates(self, api, make_breakpoint):
        breakpoint = make_breakpoint(name="old")
        body = {"name": "new", "condition_value": {"pattern": "fetch*", "match": "glob"}, "agent_name": "writer"}
        response = api.patch(f"{URL}/{breakpoint.id}", body, format="json")
        assert response.status_code == 200
        breakpoint.refresh_from_db()
        assert (breakpoint.name, breakpoint.agent_name) == ("new", "writer")
        assert breakpoint.condition_value == {"pattern": "fetch*", "match": "glob"}
        assert breakpoint.enabled  # a partial update leaves the rest alone

    def test_changing_the_type_validates_the_value_for_the_new_type(self, api, make_breakpoint):
        breakpoint = make_breakpoint()
        response = api.patch(f"{URL}/{breakpoint.id}/", {"condition_type": "custom"}, format="json")
        assert response.status_code == 400 and "condition_value" in response.json()["errors"]
        response = api.patch(f"{URL}/{breakpoint.id}", {"condition_type": "on_error"}, format="json")
        assert response.status_code == 200 and response.json()["condition_value"] == {}

    def test_an_invalid_update_changes_nothing(self, api, make_breakpoint):
        breakpoint = make_breakpoint(name="keep")
        body = {"name": "changed", "condition_type": "custom", "condition_value": {"expression": "]["}}
        assert api.patch(f"{URL}/{breakpoint.id}", body, format="json").status_code == 400
        breakpoint.refresh_from_db()
        assert (breakpoint.name, breakpoint.condition_type) == ("keep", "step_name")

    def test_it_reads_and_deletes(self, api, make_breakpoint):
        breakpoint = make_breakpoint(name="x")
        assert api.get(f"{URL}/{breakpoint.id}").json()["name"] == "x"
        assert api.delete(f"{URL}/{breakpoint.id}").status_code == 204
        assert not Breakpoint.objects.filter(pk=breakpoint.pk).exists()

    def test_it_checks_ownership(self, api, make_breakpoint, bob_project):
        breakpoint = make_breakpoint(name="bob's", project=bob_project)
        url = f"{URL}/{breakpoint.id}"
        assert api.get(url).status_code == 404
        assert api.patch(url, {"name": "mine"}, format="json").status_code == 404
        assert api.delete(url).status_code == 404
        assert api.post(f"{url}/toggle").status_code == 404
        breakpoint.refresh_from_db()
        assert (breakpoint.name, breakpoint.enabled) == ("bob's", True)

    def test_it_requires_login(self, anon_api, make_breakpoint):
        breakpoint = make_breakpoint()
        assert anon_api.patch(f"{URL}/{breakpoint.id}", {"name": "x"}, format="json").status_code == 401
        assert anon_api.delete(f"{URL}/{breakpoint.id}").status_code == 401
        assert anon_api.post(f"{URL}/{breakpoint.id}/toggle").status_code == 401


class TestToggle:
    def test_it_flips(self, api, make_breakpoint):
        breakpoint = make_breakpoint()
        assert api.post(f"{URL}/{breakpoint.id}/toggle").json()["enabled"] is False
        assert api.post(f"{URL}/{breakpoint.id}/toggle/").json()["enabled"] is True

    def test_it_sets_a_given_value(self, api, make_breakpoint):
        breakpoint = make_breakpoint()
        for _ in range(2):
            response = api.post(f"{URL}/{breakpoint.id}/toggle", {"enabled": False}, format="json")
            assert response.json()["enabled"] is False
        breakpoint.refresh_from_db()
        assert breakpoint.enabled is False

    def test_it_works_with_the_session(self, client_alice, make_breakpoint):
        breakpoint = make_breakpoint()
        response = client_alice.post(f"{URL}/{breakpoint.id}/toggle", {}, content_type="application/json")
        assert response.status_code == 200 and response.json()["enabled"] is False


class TestTestAgainstAStep:
    def test_it_says_match_and_gives_the_value(self, api, run, make_step):
        step = make_step(run, input={"query": "weather in Paris"})
        body = {
            "step_id": str(step.id),
            "condition_type": "custom",
            "condition_value": {"expression": "step.input.query"},
        }
        response = api.post(f"{URL}/test", body, format="json")
        assert response.status_code == 200
        assert (response.json()["match"], response.json()["value"]) == (True, "weather in Paris")

    def test_it_uses_the_projects_latest_step(self, api, project, run, make_step):
        make_step(run, name="search")
        make_step(run, name="summarise", step_type="llm_call")
        body = {"project_id": str(project.id), "condition_type": "step_name", "condition_value": {"pattern": "search"}}
        response = api.post(f"{URL}/test", body, format="json")
        assert response.json()["match"] is False and response.json()["step"]["name"] == "summarise"

    def test_it_validates_the_condition(self, api, run, make_step):
        step = make_step(run)
        body = {"step_id": str(step.id), "condition_type": "custom", "condition_value": {"expression": "a["}}
        response = api.post(f"{URL}/test", body, format="json")
        assert response.status_code == 400 and "condition_value" in response.json()["errors"]

    def test_it_checks_ownership(self, api, bob_run, bob_project, make_step):
        step = make_step(bob_run)
        body = {"condition_type": "step_type", "condition_value": {"step_type": "tool_call"}}
        assert api.post(f"{URL}/test", {**body, "step_id": str(step.id)}, format="json").status_code == 404
        assert api.post(f"{URL}/test", {**body, "project_id": str(bob_project.id)}, format="json").status_code == 404


# A run recorded through a framework integration offers only what its framework's hooks allow.


def _integration_run(project, ingest, actions):
    integration = {"framework": "openai-agents", "version": "0.25.0", "actions": actions}
    run = ingest.post(
        "/api/ingest/run", {"agent_name": "triage", "metadata": {"integration": integration}}, format="json"
    ).json()
    step = ingest.post(
        f"/api/ingest/run/{run['id']}/step",
        {"step_type": "tool_call", "name": "search", "input": {"q": 1}},
        format="json",
    ).json()
    assert step["control"]["action"] == "pause"
    return run


@pytest.mark.parametrize(
    "decision",
    [{"action": "continue", "input": {"q": 2}}, {"action": "skip", "output": "cached"}],
    ids=["edit", "skip"],
)
def test_resume_refuses_what_the_runs_framework_cant_do(api, project, ingest, decision):
    breakpoint_create(project=project, condition_type="step_name", condition_value={"pattern": "search"})
    run = _integration_run(project, ingest, ["continue", "abort"])

    response = api.post(f"/api/runs/{run['id']}/resume", decision, format="json")

    assert response.status_code == 400
    message = "This agent's framework (openai-agents) allows continue and abort only."
    assert response.json() == {"detail": f"action: {message}", "errors": {"action": [message]}}
    assert BreakpointHit.objects.get().status == HitStatus.WAITING


def test_resume_continues_a_runs_framework_allows(api, project, ingest):
    breakpoint_create(project=project, condition_type="step_name", condition_value={"pattern": "search"})
    run = _integration_run(project, ingest, ["continue", "abort"])

    assert api.post(f"/api/runs/{run['id']}/resume", {"action": "continue"}, format="json").status_code == 200
    assert BreakpointHit.objects.get().status == HitStatus.RESUMED


def test_the_controls_offer_only_what_the_runs_framework_allows(client_alice, project, ingest):
    breakpoint_create(project=project, condition_type="step_name", condition_value={"pattern": "search"})
    run = _integration_run(project, ingest, ["continue", "abort"])

    html = client_alice.get(f"/runs/{run['id']}/breakpoint").content.decode()

    assert "This agent's framework (openai-agents) allows continue and abort only." in html
    assert 'value="continue"' in html and 'value="abort"' in html
    assert 'value="edit"' not in html and 'value="skip"' not in html
    assert "can't take an edited input" in html


def test_a_step_may_narrow_what_its_runs_framework_allows(api, project, ingest):
    breakpoint_create(project=project, condition_type="step_type", condition_value={"step_type": "llm_call"})
    integration = {"framework": "pydantic-ai", "version": "2", "actions": ["continue", "edit", "skip", "abort"]}
    run = ingest.post("/api/ingest/run", {"agent_name": "a", "metadata": {"integration": integration}}, format="json")
    run_id = run.json()["id"]
    body = {"step_type": "llm_call", "name": "chat", "metadata": {"breakpoint_actions": ["continue", "abort"]}}
    assert ingest.post(f"/api/ingest/run/{run_id}/step", body, format="json").json()["control"]["action"] == "pause"

    response = api.post(f"/api/runs/{run_id}/resume", {"action": "continue", "input": []}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "action": ["This agent's framework (pydantic-ai) allows continue and abort only."]
    }
