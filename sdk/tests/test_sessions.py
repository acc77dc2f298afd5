"""A session built from SDK runs: `client.run(..., session_id=..., user_id=...)` against the real server."""

import pytest

from apps.runs.models import Run

pytestmark = pytest.mark.django_db(transaction=True)


def test_runs_of_one_conversation_share_a_session(make_client, project, api):
    client = make_client()
    for question in ("Where is my parcel?", "Can you refund it?"):
        with client.run("support-bot", input=question, session_id="chat-1", user_id="customer-7") as run:
            run.set_output(f"Answer to: {question}")
    with client.run("support-bot", input="unrelated"):
        pass
    assert client.flush(timeout=10)

    runs = Run.objects.filter(project=project, session_id="chat-1").order_by("started_at")
    assert [(run.input, run.user_id) for run in runs] == [
        ("Where is my parcel?", "customer-7"),
        ("Can you refund it?", "customer-7"),
    ]
    body = api.get("/api/sessions/chat-1").json()
    assert body["runs"] == 2 and [turn["output"] for turn in body["turns"]] == [
        "Answer to: Where is my parcel?",
        "Answer to: Can you refund it?",
    ]
