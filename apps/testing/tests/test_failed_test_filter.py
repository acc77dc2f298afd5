"""The runs list's "failed test X" filter: the runs whose latest verdict of that test failed."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.testing.models import TestRun
from apps.testing.models import TestRunStatus as Verdict

pytestmark = pytest.mark.django_db


def verdict(test, run, status, *, ago=0):
    return TestRun.objects.create(
        test=test, run=run, status=status, executed_at=timezone.now() - timedelta(minutes=ago)
    )


def test_it_keeps_the_runs_a_test_last_failed(api, client_alice, make_run, make_test, bob_project):
    answers, polite = make_test(name="answers 42"), make_test(name="is polite")
    failed, fixed, other, passed = (make_run(agent_name=f"bot-{n}") for n in range(4))
    verdict(answers, failed, Verdict.FAILED)
    verdict(answers, fixed, Verdict.FAILED, ago=5)
    verdict(answers, fixed, Verdict.PASSED)  # the latest verdict passed
    verdict(polite, other, Verdict.ERROR)
    verdict(answers, passed, Verdict.PASSED)

    body = api.get("/api/runs", {"failed_test": str(answers.pk), "page_size": 1}).json()
    assert [row["id"] for row in body["results"]] == [str(failed.pk)] and body["next"] is None
    both = api.get("/api/runs", {"failed_test": str(polite.pk), "agent_name": "bot-2"}).json()["results"]
    assert [row["id"] for row in both] == [str(other.pk)]
    html = client_alice.get("/runs", {"failed_test": str(answers.pk)}).content.decode()
    assert f'id="run-{failed.pk}"' in html and f'id="run-{fixed.pk}"' not in html
    assert f'<option value="{answers.pk}" selected>answers 42</option>' in html

    theirs = make_test(name="theirs", project=bob_project)
    assert api.get("/api/runs", {"failed_test": str(theirs.pk)}).status_code == 400
