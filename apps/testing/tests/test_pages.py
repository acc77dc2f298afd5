"""The Tests pages: the list, the editor, a test's page with Run now and its history, and a run's verdicts."""

import json
import re

import pytest
from django.test import Client

from apps.core.errors import ApplicationError
from apps.projects.services import project_create
from apps.testing.forms import ROW_FIELDS
from apps.testing.models import Test, TestRun
from apps.testing.services import test_create, test_evaluate

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def client_bob(bob):
    client = Client()
    client.force_login(bob)
    return client


@pytest.fixture
def failing_run(make_run):
    return make_run(output={"answer": "41"})


def check(kind="path", **values) -> dict:
    row = {"kind": kind, "op": "equals", "value_as": "text", "metric_op": "lt"}
    return {field: "" for field in ROW_FIELDS} | row | values


def editor(*checks, **fields) -> dict:
    """What the editor posts: its fields, and one list per input of the check rows."""
    data = {"name": "answers 42", "test_type": "assertion", "mode": "form", "agent_name": "support-bot"}
    data |= {"enabled": "on", "editor_action": "save", "method": "exact", "against": "expected"} | fields
    for field in ROW_FIELDS:
        data[f"check_{field}"] = [row[field] for row in checks]
    return data


def body(response) -> str:
    return response.content.decode()


def rows_in(html: str) -> int:
    """Check rows of the editor, not counting the blank one in its <template>."""
    return html.count("data-check-row>") - html.count("<template data-check-template>")


# ---------------------------------------------------------------- the list


def test_the_list_explains_tests_when_there_are_none(client_alice, project):
    html = body(client_alice.get("/tests"))
    assert "No tests yet" in html
    assert "A test is a named check over the runs of one agent" in html
    assert "output.answer" in html and "no_errors" in html  # the example config
    assert 'id="test-editor-dialog"' in html and 'commandfor="test-editor-dialog"' in html


def test_the_list_shows_each_test_with_its_health(client_alice, assertion_test, demo_run, failing_run):
    test_evaluate(test=assertion_test, run=demo_run)
    test_evaluate(test=assertion_test, run=failing_run)
    html = body(client_alice.get("/tests"))
    card = html.split(f'id="test-{assertion_test.pk}"', 1)[1].split("</article>", 1)[0]
    assert "answers 42" in card and "Assertion" in card and "support-bot" in card
    assert 'data-status="failed"' in card  # the last result
    assert "50%" in card  # pass rate
    assert "<dt>Runs</dt><dd><strong>2</strong>" in card
    assert 'role="switch" aria-checked="true"' in card
    assert "1 failing" in html
    assert 'class="chart test-trend"' in html and "Pass rate of all tests per day" in html


def test_the_list_shows_only_the_current_projects_tests(client_alice, alice, project, bob_project, make_test):
    make_test(name="mine")
    make_test(name="bob's", project=bob_project)
    make_test(name="in another project", project=project_create(user=alice, name="Staging"))
    html = body(client_alice.get("/tests"))
    assert "mine" in html
    assert "bob&#x27;s" not in html and "in another project" not in html


def test_the_list_asks_for_a_project_first(client, alice):
    client.force_login(alice)
    html = body(client.get("/tests"))
    assert "Create a project to write tests" in html
    assert "test-editor-dialog" not in html


def test_the_list_pins_its_query_count(client_alice, make_test, make_run, django_assert_max_num_queries):
    run = make_run()
    make_test(name="first")
    with django_assert_max_num_queries(8):
        assert client_alice.get("/tests").status_code == 200
    for index in range(12):
        test = make_test(name=f"test {index}", test_type="custom", expression="run.output.answer == '42'")
        test_evaluate(test=test, run=run)
    with django_assert_max_num_queries(8):
        response = client_alice.get("/tests")
    assert body(response).count('class="card test-card"') == 13


@pytest.mark.parametrize("url", ["/tests", "/tests/new"])
def test_the_pages_require_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/login?next={url}"


# ---------------------------------------------------------------- the editor: creating


def test_the_new_test_page_works(client_alice, project, demo_run):
    html = body(client_alice.get("/tests/new"))
    assert 'id="test-editor-form"' in html and "Create test" in html
    assert '<option value="support-bot">' in html  # the agents seen, for the target
    assert str(demo_run.pk) in html  # a baseline run to choose


def test_the_editor_creates_an_assertion_test(client_alice, project):
    checks = [
        check(path="output.answer", value="42"),
        check(path="output.sources", op="contains", value='"calc"', value_as="json"),
        check("metric", metric="latency_ms", metric_op="lt", metric_value="5000"),
        check("step_called", step_type="tool_call", step_name="search", min="1", max="3"),
        check("no_errors"),
    ]
    response = client_alice.post("/tests/new", editor(*checks, description="The bot answers right"))
    test = Test.objects.get(name="answers 42")
    assert response.status_code == 302 and response["Location"] == f"/tests/{test.pk}"
    assert test.project == project and test.test_type == "assertion" and test.enabled
    assert test.description == "The bot answers right"
    assert test.config == {
        "target": {"agent_name": "support-bot"},
        "assertions": [
            {"path": "output.answer", "op": "equals", "value": "42"},
            {"path": "output.sources", "op": "contains", "value": "calc"},
            {"metric": "latency_ms", "op": "lt", "value": 5000},
            {"op": "step_called", "step_type": "tool_call", "name": "search", "min": 1, "max": 3},
            {"op": "no_errors"},
        ],
    }


def test_the_editor_creates_a_comparison_test_against_an_expected_value(client_alice, project):
    data = editor(
        test_type="comparison",
        method="json_equal",
        path="output",
        expected='{"answer": "42"}',
        expected_as="json",
        ignore_keys="request_id, trace",
        threshold="0.9",  # for text similarity only: not sent
        metadata='{"env": "prod"}',
        input='{"question": "What is 6*7?"}',
    )
    assert client_alice.post("/tests/new", data).status_code == 302
    assert Test.objects.get().config == {
        "target": {"agent_name": "support-bot", "metadata": {"env": "prod"}},
        "input": {"question": "What is 6*7?"},
        "method": "json_equal",
        "path": "output",
        "expected": {"answer": "42"},
        "ignore_keys": ["request_id", "trace"],
    }


def test_the_editor_creates_a_comparison_test_against_a_baseline_run(client_alice, demo_run):
    data = editor(test_type="comparison", method="text_similarity", path="output.answer", threshold="0.8")
    data |= {"against": "baseline", "baseline_run_id": str(demo_run.pk)}
    assert client_alice.post("/tests/new", data).status_code == 302
    config = Test.objects.get().config
    assert config["baseline_run_id"] == str(demo_run.pk) and config["threshold"] == 0.8
    assert "expected" not in config


def test_the_editor_creates_a_custom_test(client_alice, project):
    data = editor(test_type="custom", expression="length(steps[?step_type=='tool_call']) <= `3`")
    assert client_alice.post("/tests/new", data).status_code == 302
    test = Test.objects.get()
    assert test.test_type == "custom"
    assert test.config == {
        "target": {"agent_name": "support-bot"},
        "expression": "length(steps[?step_type=='tool_call']) <= `3`",
    }


def test_the_editor_creates_a_test_from_json(client_alice, project):
    config = {"target": {"agent_name": "support-bot"}, "assertions": [{"op": "no_errors"}]}
    data = editor(mode="json", config_json=json.dumps(config), agent_name="", enabled="")
    assert client_alice.post("/tests/new", data).status_code == 302
    test = Test.objects.get()
    assert test.config == config and not test.enabled


def test_an_htmx_save_sends_the_browser_to_the_test(client_alice, project):
    response = client_alice.post("/tests/new", editor(check("no_errors")), **HTMX)
    test = Test.objects.get()
    assert response.status_code == 200
    assert response["HX-Redirect"] == f"/tests/{test.pk}"


# ---------------------------------------------------------------- the editor: errors


def test_the_editor_names_the_check_at_fault(client_alice, project):
    checks = [
        check(path="output.answer", value="42"),
        check(path="output.text", op="matches", value="(a+)+$"),
        check("step_called", min="3", max="1"),
    ]
    response = client_alice.post("/tests/new", editor(*checks), **HTMX)
    html = body(response)
    assert response.status_code == 200 and not Test.objects.exists()
    assert "<html" not in html and html.lstrip().startswith("<form")  # just the editor, for its dialog
    assert "Some checks need a fix" in html
    assert "Check 2, value: nested quantifiers" in html
    assert "Check 3, max: max (1) is below min (3)" in html
    # ... and next to the check itself: its row is marked, the message under its input.
    first, second, third = (row.split("kind-metric")[0] for row in html.split('<fieldset class="check-row')[1:4])
    assert "has-errors" not in first and "has-errors" in second and "has-errors" in third
    assert 'name="check_value" value="(a+)+$"' in second and 'aria-invalid="true"' in second
    assert "nested quantifiers" in second


def test_the_editor_reports_what_it_cant_read(client_alice, project):
    checks = [check(path="output", value="{not json", value_as="json"), check("metric", metric="tokens")]
    checks.append(check("metric", metric="cost", metric_value="nan"))
    html = body(client_alice.post("/tests/new", editor(*checks, agent_name="", name="")))
    assert "Check 1, value: not valid JSON" in html
    assert "Check 2, value: give a number" in html
    assert "Check 3, value: a finite number" in html
    assert "Name the agent whose runs this test judges." in html
    assert "This field is required." in html  # the name
    assert not Test.objects.exists()


def test_the_json_mode_names_the_check_at_fault(client_alice, project):
    config = {
        "target": {"agent_name": "support-bot"},
        "assertions": [{"op": "no_errors"}, {"path": "output", "op": "equalz"}],
    }
    response = client_alice.post("/tests/new", editor(mode="json", config_json=json.dumps(config)))
    html = body(response)
    assert response.status_code == 200 and not Test.objects.exists()
    assert "Check 2 (op): unknown op &#x27;equalz&#x27;" in html
    assert json.dumps(config).replace('"', "&quot;") in html  # what was typed is kept


def test_the_json_mode_reports_bad_json(client_alice, project):
    html = body(client_alice.post("/tests/new", editor(mode="json", config_json='{"target": ')))
    assert "not valid JSON" in html and not Test.objects.exists()


def test_the_editor_shows_the_services_errors_for_the_other_types(client_alice, project):
    html = body(client_alice.post("/tests/new", editor(test_type="custom", expression="length(")))
    assert "invalid JMESPath" in html
    html = body(client_alice.post("/tests/new", editor(test_type="comparison", against="baseline")))
    assert "a run id (UUID)" in html
    assert not Test.objects.exists()


# ---------------------------------------------------------------- the editor: actions without JavaScript


def test_the_editor_adds_and_removes_checks_on_the_server(client_alice, project):
    data = editor(check(path="output.a"), check(path="output.b"), editor_action="add_check")
    html = body(client_alice.post("/tests/new", data))
    assert rows_in(html) == 3 and not Test.objects.exists()
    html = body(
        client_alice.post(
            "/tests/new", editor(check(path="output.a"), check(path="output.b"), editor_action="remove_check:0")
        )
    )
    assert rows_in(html) == 1
    assert 'value="output.b"' in html and 'value="output.a"' not in html


def test_switching_modes_carries_the_config_over(client_alice, project):
    data = editor(check(path="output.answer", value="42"), editor_action="to_json")
    html = body(client_alice.post("/tests/new", data))
    assert 'name="mode" value="json"' in html
    assert "&quot;path&quot;: &quot;output.answer&quot;" in html
    config = {"target": {"agent_name": "bot-2"}, "assertions": [{"metric": "steps", "op": "lte", "value": 7}]}
    html = body(
        client_alice.post("/tests/new", editor(mode="json", config_json=json.dumps(config), editor_action="to_form"))
    )
    assert 'name="mode" value="form"' in html and 'value="bot-2"' in html
    assert '<option value="metric" selected>' in html and 'value="7"' in html
    assert not Test.objects.exists()


def test_a_config_the_form_cant_show_opens_in_json_mode(client_alice, make_test):
    ordered = make_test(assertions=[{"op": "step_called", "order": ["plan", "search"]}])
    html = body(client_alice.get(f"/tests/{ordered.pk}/edit"))
    assert 'name="mode" value="json"' in html and "&quot;order&quot;" in html


# ---------------------------------------------------------------- editing, toggling, deleting


def test_the_edit_page_shows_the_test(client_alice, assertion_test):
    html = body(client_alice.get(f"/tests/{assertion_test.pk}/edit"))
    assert "Edit “answers 42”" in html and "Save changes" in html
    assert rows_in(html) == 4
    assert 'value="output.answer"' in html and 'value="42"' in html and 'value="5000"' in html


def test_editing_updates_the_test(client_alice, assertion_test):
    data = editor(check(path="output.answer", value="41"), name="answers 41")
    response = client_alice.post(f"/tests/{assertion_test.pk}/edit", data)
    assert response.status_code == 302 and response["Location"] == f"/tests/{assertion_test.pk}"
    assertion_test.refresh_from_db()
    assert assertion_test.name == "answers 41"
    assert assertion_test.config["assertions"] == [{"path": "output.answer", "op": "equals", "value": "41"}]


def test_the_toggle_flips_the_test_in_place(client_alice, assertion_test):
    url = f"/tests/{assertion_test.pk}/toggle"
    response = client_alice.post(url, {"enabled": "0", "next": "/tests"}, **HTMX)
    assert response.status_code == 200
    assert 'aria-checked="false"' in body(response) and "<html" not in body(response)
    toast = json.loads(response["HX-Trigger"])["toast"]
    assert toast["level"] == "success" and "disabled" in toast["message"]
    client_alice.post(url, {"enabled": "0"}, **HTMX)  # a second click that raced the first changes nothing
    assertion_test.refresh_from_db()
    assert assertion_test.enabled is False


def test_the_toggle_works_without_javascript(client_alice, assertion_test):
    assertion_test.enabled = False
    assertion_test.save()
    response = client_alice.post(f"/tests/{assertion_test.pk}/toggle", {"enabled": "1", "next": "/tests"})
    assert response.status_code == 302 and response["Location"] == "/tests"
    assertion_test.refresh_from_db()
    assert assertion_test.enabled is True
    assert client_alice.post(f"/tests/{assertion_test.pk}/toggle", {"next": "https://evil.example"})["Location"] == (
        f"/tests/{assertion_test.pk}"
    )


def test_deleting_a_test(client_alice, assertion_test, demo_run):
    test_evaluate(test=assertion_test, run=demo_run)
    response = client_alice.post(f"/tests/{assertion_test.pk}/delete")
    assert response.status_code == 302 and response["Location"] == "/tests"
    assert not Test.objects.exists() and not TestRun.objects.exists()
    assert "Test “answers 42” deleted, with its 1 result." in body(client_alice.get("/tests"))


# ---------------------------------------------------------------- a test's page


def test_the_detail_page_works(client_alice, assertion_test, demo_run, failing_run):
    test_evaluate(test=assertion_test, run=demo_run)
    latest = test_evaluate(test=assertion_test, run=failing_run)
    html = body(client_alice.get(f"/tests/{assertion_test.pk}"))
    assert "answers 42" in html and "support-bot" in html
    assert "output.answer equals &quot;42&quot;" in html  # the config in words
    assert "latency_ms &lt; 5000" in html and "tool_call “search” called at least 1 time" in html
    assert "Config JSON" in html and "data-json-viewer" in html
    assert "2 results, newest first" in html
    assert html.count("data-row-link") == 2
    assert f'href="/runs/{failing_run.pk}"' in html
    assert f'hx-get="?result={latest.pk}"' in html
    # The latest result is open: each check with its message, actual and expected.
    assert 'class="row-link is-selected"' in html
    assert "expected output.answer to equal &quot;42&quot;, got &quot;41&quot;" in html
    assert "<code>&quot;41&quot;</code>" in html and "<code>&quot;42&quot;</code>" in html
    assert 'class="chart test-trend"' in html
    assert f'<option value="{failing_run.pk}">' in html  # a run to judge now


def test_a_result_link_opens_that_result(client_alice, assertion_test, demo_run, failing_run):
    passed = test_evaluate(test=assertion_test, run=demo_run)
    test_evaluate(test=assertion_test, run=failing_run)
    html = body(client_alice.get(f"/tests/{assertion_test.pk}?result={passed.pk}"))
    selected = html.split('class="row-link is-selected"', 1)[1].split("</tr>", 1)[0]
    assert f"?result={passed.pk}" in selected
    panel = html.split('id="result-panel"', 1)[1]
    assert "4 of 4 check(s) passed" in panel and "got &quot;41&quot;" not in panel


def test_the_history_answers_htmx_with_its_partial(client_alice, assertion_test, demo_run):
    test_run = test_evaluate(test=assertion_test, run=demo_run)
    response = client_alice.get(f"/tests/{assertion_test.pk}?result={test_run.pk}", HTTP_HX_TARGET="history", **HTMX)
    html = body(response)
    assert "<html" not in html and "Run history" in html and 'id="result-panel"' in html
    assert "Config JSON" not in html
    assert "HX-Request" in response["Vary"]


def test_the_history_is_paginated(client_alice, assertion_test, demo_run):
    for _ in range(17):
        test_evaluate(test=assertion_test, run=demo_run)
    html = body(client_alice.get(f"/tests/{assertion_test.pk}?page=2"))
    assert html.count("data-row-link") == 2
    assert "16\u201317 of 17" in html  # an en dash


def test_the_detail_page_pins_its_query_count(client_alice, assertion_test, demo_run, django_assert_max_num_queries):
    for _ in range(20):
        test_evaluate(test=assertion_test, run=demo_run)
    with django_assert_max_num_queries(11):
        response = client_alice.get(f"/tests/{assertion_test.pk}")
    assert body(response).count("data-row-link") == 15


def test_a_result_of_another_test_is_not_found(client_alice, assertion_test, make_test, demo_run):
    other = test_evaluate(test=make_test(name="other"), run=demo_run)
    assert client_alice.get(f"/tests/{assertion_test.pk}?result={other.pk}").status_code == 404
    assert client_alice.get(f"/tests/{assertion_test.pk}?result=nope").status_code == 404


# ---------------------------------------------------------------- Run now


def test_run_now_judges_the_chosen_run(client_alice, assertion_test, demo_run, failing_run):
    response = client_alice.post(f"/tests/{assertion_test.pk}/run", {"run_id": str(failing_run.pk)})
    test_run = TestRun.objects.get()
    assert test_run.run == failing_run and test_run.status == "failed"
    assert response.status_code == 302 and response["Location"] == f"/tests/{assertion_test.pk}?result={test_run.pk}"
    html = body(client_alice.get(response["Location"]))
    assert "Failed: 3 of 4 check(s) passed." in html  # the toast
    assert "got &quot;41&quot;" in html


def test_run_now_judges_the_latest_run(client_alice, assertion_test, make_run, demo_run):
    make_run(agent_name="other-bot")
    make_run(status="running")
    client_alice.post(f"/tests/{assertion_test.pk}/run", {"run_id": "latest"})
    assert TestRun.objects.get().run == demo_run


def test_run_now_answers_htmx_with_the_new_result(client_alice, assertion_test, demo_run):
    response = client_alice.post(
        f"/tests/{assertion_test.pk}/run", {"run_id": "latest"}, HTTP_HX_TARGET="test-body", **HTMX
    )
    test_run = TestRun.objects.get()
    html = body(response)
    assert response.status_code == 200 and "<html" not in html
    assert response["HX-Push-Url"] == f"/tests/{assertion_test.pk}?result={test_run.pk}"
    assert json.loads(response["HX-Trigger"])["toast"] == {
        "level": "success",
        "message": "Passed: 4 of 4 check(s) passed.",
    }
    assert "4 of 4 check(s) passed" in html and 'id="history"' in html


def test_run_now_explains_when_there_is_no_run_to_judge(client_alice, assertion_test, make_run):
    make_run(agent_name="other-bot")
    response = client_alice.post(f"/tests/{assertion_test.pk}/run", {"run_id": "latest"})
    assert response.status_code == 409
    assert "Couldn't run the test." in body(response)
    assert "Nothing to judge yet: no finished run of support-bot matches this test." in body(response)
    response = client_alice.post(f"/tests/{assertion_test.pk}/run", {"run_id": "latest"}, **HTMX)
    assert response.status_code == 409
    assert response["HX-Retarget"] == "#run-now-message" and response["HX-Reswap"] == "innerHTML"
    assert "<html" not in body(response) and "Nothing to judge yet" in body(response)
    assert not TestRun.objects.exists()


def test_run_now_refuses_another_tenants_run(client_alice, assertion_test, bob_project):
    from apps.runs.models import Run

    bobs = Run.objects.create(project=bob_project, agent_name="support-bot", status="completed")
    response = client_alice.post(f"/tests/{assertion_test.pk}/run", {"run_id": str(bobs.pk)})
    assert response.status_code == 400 and "No such run in this test&#x27;s project." in body(response)
    assert client_alice.post(f"/tests/{assertion_test.pk}/run", {"run_id": "nope"}).status_code == 400
    assert not TestRun.objects.exists()


# ---------------------------------------------------------------- a run's verdicts


def test_a_runs_verdicts_list_the_tests_that_judged_it(client_alice, assertion_test, make_test, failing_run):
    custom = make_test(name="cheap", test_type="custom", expression="run.total_tokens < `1000`")
    test_evaluate(test=assertion_test, run=failing_run)
    latest = test_evaluate(test=assertion_test, run=failing_run)
    test_evaluate(test=custom, run=failing_run)
    response = client_alice.get(f"/runs/{failing_run.pk}")  # a panel of the run's page
    page = body(response)
    assert response.status_code == 200 and "css/tests.css" in page[: page.index("</head>")]
    html = page[page.index('<section class="test-verdicts"') :]
    assert html.count('class="test-verdict"') == 2  # the latest verdict of each test
    assert f'href="/tests/{assertion_test.pk}?result={latest.pk}"' in html
    assert "answers 42" in html and "cheap" in html
    assert "first failure: expected output.answer to equal &quot;42&quot;, got &quot;41&quot;" in html
    assert 'data-status="failed"' in html and 'data-status="passed"' in html


def test_a_run_nobody_judged_says_so(client_alice, demo_run):
    html = body(client_alice.get(f"/runs/{demo_run.pk}"))
    assert "No test has judged this run yet." in html and "support-bot" in html


# ---------------------------------------------------------------- login and ownership, for every URL


def urls(test, test_run, run) -> list[tuple[str, str, dict]]:
    return [
        ("get", f"/tests/{test.pk}", {}),
        ("get", f"/tests/{test.pk}?result={test_run.pk}", {}),
        ("get", f"/tests/{test.pk}/edit", {}),
        ("post", f"/tests/{test.pk}/edit", editor(check("no_errors"), name="taken over")),
        ("post", f"/tests/{test.pk}/toggle", {"enabled": "0"}),
        ("post", f"/tests/{test.pk}/run", {"run_id": str(run.pk)}),
        ("post", f"/tests/{test.pk}/delete", {}),
    ]


def test_every_page_checks_ownership(client_bob, assertion_test, demo_run):
    test_run = test_evaluate(test=assertion_test, run=demo_run)
    for method, url, data in urls(assertion_test, test_run, demo_run):
        response = getattr(client_bob, method)(url, data)
        assert response.status_code == 404, url
    assertion_test.refresh_from_db()
    assert assertion_test.name == "answers 42" and assertion_test.enabled
    assert TestRun.objects.count() == 1


def test_every_page_requires_login(client, assertion_test, demo_run):
    test_run = test_evaluate(test=assertion_test, run=demo_run)
    for method, url, data in urls(assertion_test, test_run, demo_run):
        response = getattr(client, method)(url, data)
        assert response.status_code == 302 and re.match(r"^/login\?next=/tests/", response["Location"]), url
    assert Test.objects.filter(pk=assertion_test.pk, enabled=True).exists()


def test_an_outsider_cannot_create_tests_in_my_project(client_bob, bob_project, project):
    # Bob's editor creates tests in bob's current project, whatever he posts.
    client_bob.post(f"/tests/new?project={project.pk}", editor(check("no_errors")))
    assert not Test.objects.filter(project=project).exists()
    assert Test.objects.get().project == bob_project


def test_pages_serve_without_a_trailing_slash_and_with_one(client_alice, assertion_test):
    assert client_alice.get(f"/tests/{assertion_test.pk}/").status_code == 200
    assert client_alice.get("/tests/new/").status_code == 200


def test_test_create_is_the_service_the_page_uses(client_alice, project):
    """The page and the API share the service: what one refuses, the other refuses with the same words."""
    config = {"target": {"agent_name": "support-bot"}, "assertions": []}
    with pytest.raises(ApplicationError) as refused:
        test_create(project=project, name="x", test_type="assertion", config=config)
    html = body(client_alice.post("/tests/new", editor(mode="json", config_json=json.dumps(config))))
    assert refused.value.errors["config.assertions"][0].replace('"', "&quot;") in html


def test_the_trend_chart_draws_the_pass_rate_from_0_to_100_percent():
    from apps.testing.views import trend_chart

    day = {"passed": 0, "failed": 0, "error": 0, "pass_rate": None}
    trend = [day | {"date": f"2026-01-0{n}"} for n in range(1, 5)]
    assert trend_chart(trend) is None  # nothing judged: no chart, a sentence instead
    trend[1] |= {"passed": 4, "pass_rate": 1.0}
    trend[3] |= {"passed": 1, "failed": 1, "pass_rate": 0.5}
    chart = trend_chart(trend)
    top, bottom = chart["grid"][0]["y"], chart["grid"][-1]["y"]
    assert (chart["days"][1]["rate_y"], chart["days"][3]["rate_y"]) == (top, (top + bottom) / 2)
    assert chart["days"][0]["rate_y"] is None and chart["line"].count(",") == 2  # only judged days are points
    busiest, other = chart["days"][1]["bars"][0], chart["days"][3]["bars"]
    assert busiest["height"] == 4 * other[0]["height"] == 4 * other[1]["height"]
