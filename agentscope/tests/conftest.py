"""A project with one of everything a person sees, sent the way agents and people send it: runs and
MCP traffic through the ingest API, tests, breakpoints and replays through the JSON API."""

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.utils import timezone

LONG_NAME = "customer-support-escalation-agent-with-a-very-long-name"
STACK = "\n".join(
    [
        "Traceback (most recent call last):",
        '  File "/srv/agents/research/tools/documents.py", line 118, in read_document_from_the_corpus_by_its_identifier',
        "    return corpus.documents[document_identifier].text_with_every_footnote_and_reference_expanded_inline()",
        "KeyError: \"no document 'planet-x' in the corpus\"",
    ]
)


@dataclass
class Site:
    """Ids of what the seed made, by what a page needs."""

    project_id: str
    run: str = ""
    failed_run: str = ""
    paused_run: str = ""
    replay: str = ""
    test: str = ""
    breakpoint: str = ""
    tool: str = ""
    log: str = ""
    runs: list[str] = field(default_factory=list)
    session: str = "astronomy-chat-7f3a"


def _post(client, url, body, status=(200, 201)):
    response = client.post(url, body, format="json")
    assert response.status_code in status, (url, response.status_code, response.content[:500])
    return response.json()


def send_run(
    ingest, *, agent="research-assistant", steps=(), error=None, end=True, question="Why is Mars red?", session=None
):
    """A run and its steps through the ingest API; steps are dicts of the step endpoint's body."""
    body = {"agent_name": agent, "input": {"question": question}}
    if session:
        body |= {"session_id": session, "user_id": "student-42"}
    run_id = _post(ingest, "/api/ingest/run", body)["id"]
    ids = []
    for body in steps:
        if "parent" in body:
            body = {**body, "parent_id": ids[body.pop("parent")]}
        ids.append(_post(ingest, f"/api/ingest/run/{run_id}/step", body)["id"])
    if end:
        ending = {"error": error} if error else {"output": {"answer": "Iron oxide: Mars is rusty."}}
        _post(ingest, f"/api/ingest/run/{run_id}/end", ending)
    return run_id


def _traced_steps(t0):
    at = lambda ms: (t0 + timedelta(milliseconds=ms)).isoformat()  # noqa: E731
    return [
        {
            "step_type": "llm_call",
            "name": "plan",
            "input": {"messages": [{"role": "user", "content": "Why is Mars red?"}]},
            "output": {"choices": [{"message": {"role": "assistant", "content": "Search, then read."}}]},
            "metadata": {"model": "gpt-4o-mini", "prompt_tokens": 12, "completion_tokens": 5},
            "tokens_used": 17,
            "started_at": at(0),
            "ended_at": at(420),
        },
        {
            "step_type": "custom",
            "name": "lookup",
            "input": {"topic": "mars"},
            "output": {"ok": True},
            "started_at": at(420),
            "ended_at": at(1300),
        },
        {
            "step_type": "tool_call",
            "name": "search",
            "parent": 1,
            "input": {"query": "mars colour"},
            "error": {"type": "TimeoutError", "message": "search timed out after 0.5 s"},
            "started_at": at(420),
            "ended_at": at(920),
        },
        {
            "step_type": "tool_call",
            "name": "read_document",
            "parent": 1,
            "input": {"doc": "mars"},
            "output": {"text": "Iron oxide."},
            "started_at": at(920),
            "ended_at": at(1300),
        },
        {
            "step_type": "llm_call",
            "name": "answer",
            "input": {"facts": ["iron oxide"]},
            "output": {"text": "Because of rust."},
            "tokens_used": 40,
            "started_at": at(1300),
            "ended_at": at(1800),
        },
    ]


def seed_site(*, project, api, ingest) -> Site:
    site = Site(project_id=str(project.pk))
    t0 = timezone.now() - timedelta(minutes=5)
    site.run = send_run(ingest, steps=_traced_steps(t0), session=site.session)
    failing = [
        {
            "step_type": "tool_call",
            "name": "read_document",
            "input": {"doc": "planet-x"},
            "error": {"type": "KeyError", "message": "no document 'planet-x' in the corpus", "stack": STACK},
            "latency_ms": 0,
        },
    ]
    error = {"type": "KeyError", "message": "no document 'planet-x' in the corpus", "stack": STACK}
    site.failed_run = send_run(
        ingest, agent=LONG_NAME, steps=failing, error=error, question="Summarise planet-x", session=site.session
    )
    site.runs = [site.run, site.failed_run] + [
        send_run(
            ingest,
            agent="math-tutor",
            question=f"What is {n} * 24?",
            steps=[
                {
                    "step_type": "tool_call",
                    "name": "calculator",
                    "input": {"expression": f"{n} * 24"},
                    "output": {"value": n * 24},
                    "latency_ms": 0,
                },
            ],
        )
        for n in range(3)
    ]
    bp = _post(api, "/api/breakpoints", {
        "project_id": site.project_id, "name": "Approve refunds", "condition_type": "step_name",
        "condition_value": {"pattern": "issue_refund", "match": "exact"},
    })  # fmt: skip
    site.breakpoint = bp["id"]
    site.paused_run = send_run(ingest, agent="refund-bot", end=False, steps=[
        {"step_type": "llm_call", "name": "decide", "input": {"ticket": 7}, "output": {"refund": 20}},
        {"step_type": "tool_call", "name": "issue_refund", "input": {"amount": 20, "currency": "EUR"}},
    ])  # fmt: skip
    test = _post(api, "/api/tests", {
        "project_id": site.project_id, "name": "Answers about Mars", "test_type": "assertion",
        "config": {"target": {"agent_name": "research-assistant"},
                   "assertions": [{"path": "output.answer", "op": "contains", "value": "rust"}, {"op": "no_errors"}]},
    })  # fmt: skip
    site.test = test["id"]
    _post(api, f"/api/tests/{site.test}/run", {"run_id": site.run})
    site.replay = _post(api, f"/api/runs/{site.run}/replay", {"from_step": 2})["id"]
    tool = _post(ingest, "/api/ingest/mcp/tool", {
        "tool_name": "search_documents", "server_name": "docs", "description": "Search the corpus.",
        "input_schema": {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]},
    })  # fmt: skip
    site.tool = tool["id"]
    site.log = _post(ingest, "/api/ingest/mcp/log", {
        "tool_id": site.tool, "log_type": "response", "run_id": site.run, "latency_ms": 12,
        "request": {"name": "search_documents", "arguments": {"query": "mars"}}, "response": {"hits": 2},
    })["id"]  # fmt: skip
    _post(ingest, "/api/ingest/mcp/log", {
        "tool_id": site.tool, "log_type": "error", "latency_ms": 3,
        "request": {"name": "search_documents", "arguments": {"q": 1}}, "error": {"code": -32602, "message": "bad"},
    })  # fmt: skip
    return site


@pytest.fixture
def site(project, api, ingest) -> Site:
    return seed_site(project=project, api=api, ingest=ingest)
