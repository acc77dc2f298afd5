"""The pause protocol: a hit recorded on a step post, the SDK's poll, a person's decision."""

import pytest
from django.db import transaction

from apps.breakpoints.models import BreakpointHit, HitPhase, HitStatus
from apps.breakpoints.selectors import waiting_hit_for_run
from apps.breakpoints.services import _claim, breakpoint_check_step, breakpoint_hit_time_out, run_resume
from apps.core.errors import ApplicationError
from apps.runs.models import Run, RunStatus, RunStep, StepStatus

pytestmark = [pytest.mark.django_db, pytest.mark.urls("apps.breakpoints.tests.urls")]


def control_url(run) -> str:
    return f"/api/ingest/run/{run.id}/control"


def resume_url(run) -> str:
    return f"/api/runs/{run.id}/resume"


@pytest.fixture
def paused(run, make_step, make_breakpoint):
    """A run paused before its `search` tool call: (run, step, hit)."""
    make_breakpoint(name="Before search")
    step = make_step(run)
    answer = breakpoint_check_step(run=run, step=step)
    return run, step, BreakpointHit.objects.get(pk=answer["hit_id"])


class TestCheckStep:
    def test_a_matching_running_step_pauses_the_run(self, run, make_step, make_breakpoint):
        breakpoint = make_breakpoint()
        step = make_step(run, input={"query": "weather in Paris"})
        answer = breakpoint_check_step(run=run, step=step)
        hit = BreakpointHit.objects.get()
        assert answer == {"action": "pause", "hit_id": str(hit.id)}
        assert (hit.status, hit.phase, hit.breakpoint, hit.step) == ("waiting", "before", breakpoint, step)
        assert hit.step_input == {"query": "weather in Paris"}
        run.refresh_from_db()
        assert run.status == RunStatus.PAUSED

    def test_without_enabled_breakpoints_it_continues_in_one_query(
        self, run, make_step, make_breakpoint, django_assert_num_queries
    ):
        make_breakpoint(enabled=False)
        step = make_step(run)
        with django_assert_num_queries(1):
            assert breakpoint_check_step(run=run, step=step) == {"action": "continue"}
        assert not BreakpointHit.objects.exists()

    def test_a_completed_step_costs_no_query(self, run, make_step, make_breakpoint, django_assert_num_queries):
        make_breakpoint()
        step = make_step(run, status=StepStatus.COMPLETED, output={"hits": []})
        with django_assert_num_queries(0):
            assert breakpoint_check_step(run=run, step=step) == {"action": "continue"}

    def test_a_miss_costs_one_query(self, run, make_step, make_breakpoint, django_assert_num_queries):
        for name in ("fetch", "summarise", "write"):
            make_breakpoint(condition_value={"pattern": name})
        step = make_step(run)
        with django_assert_num_queries(1):
            assert breakpoint_check_step(run=run, step=step) == {"action": "continue"}

    def test_it_respects_the_agent_scope(self, run, make_step, make_breakpoint):
        make_breakpoint(agent_name="writer")
        assert breakpoint_check_step(run=run, step=make_step(run))["action"] == "continue"
        make_breakpoint(agent_name="researcher")
        assert breakpoint_check_step(run=run, step=make_step(run))["action"] == "pause"

    def test_another_projects_breakpoints_never_pause_my_run(self, run, make_step, make_breakpoint, bob_project):
        make_breakpoint(project=bob_project)
        assert breakpoint_check_step(run=run, step=make_step(run))["action"] == "continue"

    def test_the_first_matching_breakpoint_is_recorded(self, run, make_step, make_breakpoint):
        make_breakpoint(condition_value={"pattern": "fetch"})
        first = make_breakpoint(condition_type="step_type", condition_value={"step_type": "tool_call"})
        make_breakpoint(condition_type="custom", condition_value={"expression": "step.input.query"})
        breakpoint_check_step(run=run, step=make_step(run))
        assert BreakpointHit.objects.get().breakpoint == first

    def test_custom_breaks_on_tokens_so_far(self, run, make_step, make_breakpoint):
        make_breakpoint(condition_type="custom", condition_value={"expression": "run.total_tokens > `1000`"})
        assert breakpoint_check_step(run=run, step=make_step(run))["action"] == "continue"
        Run.objects.filter(pk=run.pk).update(total_tokens=1500)
        run.refresh_from_db()
        assert breakpoint_check_step(run=run, step=make_step(run))["action"] == "pause"

    def test_a_broken_expression_never_breaks_ingest(self, run, make_step, make_breakpoint):
        make_breakpoint(condition_type="custom", condition_value={"expression": "length(step.step_index)"})
        assert breakpoint_check_step(run=run, step=make_step(run)) == {"action": "continue"}

    def test_a_retried_step_post_finds_the_same_hit(self, paused):
        run, step, hit = paused
        assert breakpoint_check_step(run=run, step=step) == {"action": "pause", "hit_id": str(hit.id)}
        run_resume(run=run, user=run.project.user, action="continue", input={"query": "Rome"})
        again = breakpoint_check_step(run=run, step=RunStep.objects.get(pk=step.pk))
        assert again == {"action": "continue", "hit_id": str(hit.id), "input": {"query": "Rome"}}
        assert BreakpointHit.objects.count() == 1

    def test_it_works_inside_ingests_locked_transaction(self, run, make_step, make_breakpoint):
        make_breakpoint()
        step = make_step(run)
        with transaction.atomic():
            locked = Run.objects.select_for_update().get(pk=run.pk)
            first = breakpoint_check_step(run=locked, step=step)
            # A retry racing the first post: the unique (step, phase) rolls back only its savepoint.
            assert breakpoint_check_step(run=locked, step=step) == first
        assert BreakpointHit.objects.count() == 1 and Run.objects.get(pk=run.pk).status == RunStatus.PAUSED

    def test_a_finished_run_never_pauses(self, run, make_step, make_breakpoint):
        make_breakpoint()
        Run.objects.filter(pk=run.pk).update(status=RunStatus.COMPLETED)
        run.refresh_from_db()
        assert breakpoint_check_step(run=run, step=make_step(run)) == {"action": "continue"}


class TestOnError:
    def test_it_pauses_after_a_step_ends_in_an_error_not_before(self, run, make_step, make_breakpoint):
        make_breakpoint(condition_type="on_error", condition_value={})
        step = make_step(run)
        assert breakpoint_check_step(run=run, step=step) == {"action": "continue"}
        RunStep.objects.filter(pk=step.pk).update(status=StepStatus.FAILED, error={"message": "timeout"})
        step.refresh_from_db()
        answer = breakpoint_check_step(run=run, step=step)
        assert answer["action"] == "pause"
        assert BreakpointHit.objects.get(pk=answer["hit_id"]).phase == HitPhase.AFTER

    def test_a_step_can_pause_before_and_again_after_its_error(self, paused, make_breakpoint):
        run, step, _hit = paused
        make_breakpoint(condition_type="on_error", condition_value={})
        run_resume(run=run, user=run.project.user, action="continue")
        RunStep.objects.filter(pk=step.pk).update(status=StepStatus.FAILED, error={"message": "boom"})
        step.refresh_from_db()
        run.refresh_from_db()
        assert breakpoint_check_step(run=run, step=step)["action"] == "pause"
        assert BreakpointHit.objects.filter(step=step).count() == 2

    def test_the_input_of_a_step_that_already_ran_cannot_be_edited(self, api, run, make_step, make_breakpoint):
        make_breakpoint(condition_type="on_error", condition_value={})
        step = make_step(run, status=StepStatus.FAILED, error={"message": "boom"})
        breakpoint_check_step(run=run, step=step)
        response = api.post(resume_url(run), {"action": "continue", "input": {"q": 1}}, format="json")
        assert response.status_code == 400 and "input" in response.json()["errors"]
        assert api.post(resume_url(run), {"action": "continue"}, format="json").status_code == 200


class TestControl:
    def test_it_answers_pause_while_waiting(self, ingest, paused):
        run, _step, hit = paused
        response = ingest.get(control_url(run))
        assert response.status_code == 200
        assert response.json() == {"action": "pause", "hit_id": str(hit.id)}

    def test_it_answers_continue_for_a_run_that_never_paused(self, ingest, run):
        assert ingest.get(control_url(run)).json() == {"action": "continue", "hit_id": None}

    def test_it_answers_about_a_given_hit(self, ingest, paused, make_step):
        run, _step, hit = paused
        run_resume(run=run, user=run.project.user, action="continue")
        second = breakpoint_check_step(run=run, step=make_step(run))
        assert ingest.get(control_url(run)).json()["hit_id"] == second["hit_id"]
        answer = ingest.get(f"{control_url(run)}?hit_id={hit.id}").json()
        assert answer == {"action": "continue", "hit_id": str(hit.id)}

    def test_a_hit_of_another_run_is_a_404(self, ingest, paused, project):
        _run, _step, hit = paused
        other = Run.objects.create(project=project, agent_name="x")
        assert ingest.get(f"{control_url(other)}?hit_id={hit.id}").status_code == 404

    def test_it_checks_ownership(self, ingest, bob_run):
        assert ingest.get(control_url(bob_run)).status_code == 404

    def test_it_requires_an_api_key(self, anon_api, api, paused):
        run, _step, _hit = paused
        assert anon_api.get(control_url(run)).status_code == 401
        assert api.get(control_url(run)).status_code == 401  # a person's JWT is not the agent's key

    def test_the_sdk_reports_that_it_stopped_waiting(self, ingest, paused):
        run, step, hit = paused
        body = {"hit_id": str(hit.id), "timed_out": True, "waited_ms": 30000}
        response = ingest.post(control_url(run), body, format="json")
        assert response.json() == {"action": "continue", "hit_id": str(hit.id), "timed_out": True}
        hit.refresh_from_db()
        run.refresh_from_db()
        step.refresh_from_db()
        assert (hit.status, hit.timed_out, hit.waited_ms, hit.resolved_by) == ("resumed", True, 30000, None)
        assert run.status == RunStatus.RUNNING
        assert step.metadata["breakpoint"]["timed_out"] is True

    def test_a_timeout_loses_to_a_decision_already_made(self, ingest, paused):
        run, _step, hit = paused
        run_resume(run=run, user=run.project.user, action="skip", output={"hits": ["cached"]})
        answer = breakpoint_hit_time_out(run=run, hit_id=hit.id, waited_ms=5)
        assert answer == {"action": "skip", "hit_id": str(hit.id), "output": {"hits": ["cached"]}}
        body = {"hit_id": str(hit.id), "timed_out": False}
        assert ingest.post(control_url(run), body, format="json").status_code == 400


class TestResume:
    def test_continue_with_edited_input(self, api, ingest, paused):
        run, step, hit = paused
        body = {"action": "continue", "input": {"query": "weather in Rome"}}
        response = api.post(resume_url(run), body, format="json")
        assert response.status_code == 200
        assert response.json()["run"]["status"] == "running"
        assert response.json()["hit"]["resolved_by"] == "alice@example.com"
        answer = ingest.get(control_url(run)).json()
        assert answer == {"action": "continue", "hit_id": str(hit.id), "input": {"query": "weather in Rome"}}
        hit.refresh_from_db()
        step.refresh_from_db()
        assert (hit.status, hit.input_edited, hit.step_input) == ("resumed", True, {"query": "weather in Paris"})
        assert step.input == {"query": "weather in Rome"}
        note = step.metadata["breakpoint"]
        assert note["input_edited"] is True and note["original_input"] == {"query": "weather in Paris"}
        assert note["hit_id"] == str(hit.id) and note["resolved_by"] == "alice@example.com"

    def test_plain_continue_keeps_the_input(self, api, ingest, paused):
        run, step, hit = paused
        assert api.post(resume_url(run), {"action": "continue"}, format="json").status_code == 200
        assert ingest.get(control_url(run)).json() == {"action": "continue", "hit_id": str(hit.id)}
        step.refresh_from_db()
        assert step.input == {"query": "weather in Paris"} and step.metadata["breakpoint"]["input_edited"] is False

    def test_skip_hands_the_agent_an_output(self, api, ingest, paused):
        run, step, hit = paused
        body = {"action": "skip", "output": {"results": ["It is sunny."]}}
        assert api.post(resume_url(run), body, format="json").status_code == 200
        answer = ingest.get(control_url(run)).json()
        assert answer == {"action": "skip", "hit_id": str(hit.id), "output": {"results": ["It is sunny."]}}
        step.refresh_from_db()
        run.refresh_from_db()
        assert (step.status, step.output, step.metadata["breakpoint"]["skipped"]) == (
            "completed",
            {"results": ["It is sunny."]},
            True,
        )
        assert run.status == RunStatus.RUNNING

    def test_abort_fails_the_run_naming_who_did_it(self, api, ingest, paused):
        run, step, hit = paused
        response = api.post(resume_url(run), {"action": "abort"}, format="json")
        assert response.status_code == 200
        message = f"Aborted by alice@example.com at breakpoint Before search on step {step.step_index}"
        run.refresh_from_db()
        step.refresh_from_db()
        assert run.status == RunStatus.FAILED and run.ended_at is not None
        assert run.error == {"message": message, "type": "Aborted"}
        assert (step.status, step.error["type"], run.error_count) == ("failed", "Aborted", 1)
        answer = ingest.get(control_url(run)).json()
        assert answer == {"action": "abort", "hit_id": str(hit.id), "message": message}

    def test_pressing_twice_is_a_409(self, api, paused):
        run, _step, _hit = paused
        assert api.post(resume_url(run), {"action": "continue"}, format="json").status_code == 200
        response = api.post(resume_url(run), {"action": "abort"}, format="json")
        assert response.status_code == 409
        assert response.json()["detail"] == "This run has no step waiting at a breakpoint."
        run.refresh_from_db()
        assert run.status == RunStatus.RUNNING

    def test_of_two_people_pressing_at_once_exactly_one_wins(self, paused, bob):
        """Both read the hit waiting; the later write finds it resolved (threads: test_concurrency)."""
        run, _step, hit = paused
        seen_by_second = BreakpointHit.objects.get(pk=hit.pk)
        run_resume(run=run, user=run.project.user, action="continue", input={"query": "first"})
        with pytest.raises(ApplicationError) as caught:
            _claim(hit=seen_by_second, status=HitStatus.ABORTED, action="abort", resolved_by=bob)
        assert caught.value.status == 409
        with pytest.raises(ApplicationError):
            run_resume(run=run, user=bob, action="skip", output={}, hit_id=hit.id)
        hit.refresh_from_db()
        assert (hit.action, hit.edited_input, hit.resolved_by) == ("continue", {"query": "first"}, run.project.user)

    def test_parallel_steps_pause_alone_and_the_run_waits_for_both(self, api, ingest, paused, make_step):
        run, _step, first = paused
        second = breakpoint_check_step(run=run, step=make_step(run))["hit_id"]
        api.post(resume_url(run), {"action": "continue"}, format="json")
        run.refresh_from_db()
        assert run.status == RunStatus.PAUSED
        assert ingest.get(control_url(run)).json() == {"action": "pause", "hit_id": second}
        assert ingest.get(f"{control_url(run)}?hit_id={first.id}").json()["action"] == "continue"
        api.post(resume_url(run), {"action": "continue", "hit_id": second}, format="json")
        run.refresh_from_db()
        assert run.status == RunStatus.RUNNING

    def test_abort_aborts_every_waiting_step_of_the_run(self, api, ingest, paused, make_step):
        run, _step, _first = paused
        second = breakpoint_check_step(run=run, step=make_step(run))["hit_id"]
        api.post(resume_url(run), {"action": "abort"}, format="json")
        assert ingest.get(f"{control_url(run)}?hit_id={second}").json()["action"] == "abort"
        assert not BreakpointHit.objects.filter(status=HitStatus.WAITING).exists()

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"action": "rewind"}, "action"),
            ({}, "action"),
            ({"action": "skip"}, "output"),
            ({"action": "abort", "input": {"q": 1}}, "input"),
            ({"action": "continue", "output": {"q": 1}}, "output"),
            ({"action": "continue", "hit_id": "nope"}, "hit_id"),
        ],
    )
    def test_a_bad_decision_is_a_400(self, api, paused, body, field):
        run, _step, hit = paused
        response = api.post(resume_url(run), body, format="json")
        assert response.status_code == 400 and field in response.json()["errors"]
        hit.refresh_from_db()
        assert hit.is_waiting

    def test_a_run_with_nothing_waiting_is_a_409(self, api, run):
        response = api.post(resume_url(run), {"action": "continue"}, format="json")
        assert response.status_code == 409 and "no step waiting" in response.json()["detail"]

    def test_the_run_page_banner_finds_the_waiting_hit_in_one_query(self, paused, django_assert_num_queries):
        run, step, hit = paused
        with django_assert_num_queries(1):
            found = waiting_hit_for_run(run)
            assert (found, found.step.step_index, found.breakpoint_label) == (hit, step.step_index, "Before search")

    def test_a_run_that_ended_while_paused_waits_on_nothing(self, api, paused):
        run, _step, _hit = paused
        Run.objects.filter(pk=run.pk).update(status=RunStatus.FAILED)
        run.refresh_from_db()
        assert waiting_hit_for_run(run) is None
        response = api.post(resume_url(run), {"action": "continue"}, format="json")
        assert response.status_code == 409 and "already failed" in response.json()["detail"]

    def test_it_checks_ownership(self, api, bob_run, make_step, make_breakpoint, bob_project):
        make_breakpoint(project=bob_project)
        Run.objects.filter(pk=bob_run.pk).update(status=RunStatus.RUNNING)
        bob_run.refresh_from_db()
        breakpoint_check_step(run=bob_run, step=make_step(bob_run))
        assert api.post(resume_url(bob_run), {"action": "abort"}, format="json").status_code == 404
        bob_run.refresh_from_db()
        assert bob_run.status == RunStatus.PAUSED

    def test_it_requires_login(self, anon_api, ingest, paused):
        run, _step, _hit = paused
        assert anon_api.post(resume_url(run), {"action": "continue"}, format="json").status_code == 401
        assert ingest.post(resume_url(run), {"action": "continue"}, format="json").status_code == 401

    def test_it_works_with_the_session(self, client_alice, paused):
        run, _step, _hit = paused
        response = client_alice.post(resume_url(run), {"action": "continue"}, content_type="application/json")
        assert response.status_code == 200


def test_a_second_app_process_serves_the_poll_while_the_first_serves_the_resume(paused, api_key, alice):
    """Two independent clients (as behind a load balancer): no state but the database is shared."""
    from rest_framework.test import APIClient

    from apps.accounts.tokens import tokens_for_user

    run, _step, hit = paused
    server_a, server_b = APIClient(), APIClient()
    server_a.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens_for_user(alice)['access']}")
    server_b.credentials(HTTP_X_AGENTSCOPE_KEY=api_key[1])
    assert server_b.get(control_url(run)).json()["action"] == "pause"
    server_a.post(resume_url(run), {"action": "continue", "input": {"query": "edited"}}, format="json")
    assert server_b.get(f"{control_url(run)}?hit_id={hit.id}").json()["input"] == {"query": "edited"}
