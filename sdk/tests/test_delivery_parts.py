"""The pieces the sender is made of, each on its own: how an answer is sorted (real httpx responses),
when a chunk is tried again, how events are merged and counted, and what the summary says."""

import email.utils
import time

import httpx
import pytest

from agentscope_sdk.delivery import Answer, Backoff, Item, SenderConfig, Tally, _merged, summary

CONFIG = SenderConfig(base_url="http://127.0.0.1:9", api_key="as_x", max_retries=4, backoff_base=0.5, backoff_max=3.0)


def items(*types: str) -> list[Item]:
    return [Item(kind, b"{}", 1) for kind in types]


def response(status: int, *, json=None, text: str = "", headers=None) -> httpx.Response:
    request = httpx.Request("POST", "http://127.0.0.1:9/api/ingest/batch")
    if json is not None:
        return httpx.Response(status, json=json, headers=headers, request=request)
    return httpx.Response(status, text=text, headers=headers, request=request)


class TestAnswer:
    def test_it_sorts_a_207_event_by_event(self, caplog):
        chunk = items("run.create", "step.create", "step.create", "run.end")
        results = [
            {"index": 0, "status": 201},
            {"index": 1, "status": 404, "error": {"detail": "Run not found."}},
            {"index": 2, "status": 503},
            {"index": 9, "status": 500},  # no such event: ignored
        ]

        answer = Answer.of(response(207, json={"results": results}), chunk)

        assert answer.stored == [chunk[0], chunk[3]]  # one the results don't mention was stored
        assert answer.refused == [chunk[1]]
        assert answer.retry == [chunk[2]]
        assert answer.refusal.startswith("HTTP 404")
        assert "refused a step.create event: 404" in caplog.text

    def test_a_refused_batch_is_refused_whole_and_never_retried(self, caplog):
        chunk = items("run.create", "run.end")

        answer = Answer.of(response(401, json={"detail": "Invalid API key."}), chunk)

        assert (answer.refused, answer.retry, answer.stored) == (chunk, [], [])
        assert answer.refusal.startswith("HTTP 401") and "Invalid API key" in answer.refusal
        assert "refused a batch of 2 events: HTTP 401" in caplog.text

    @pytest.mark.parametrize("status", [429, 500, 503])
    def test_throttled_and_server_errors_are_retried_with_retry_after(self, status):
        chunk = items("run.create")

        answer = Answer.of(response(status, json={"detail": "busy"}, headers={"Retry-After": "7"}), chunk)

        assert (answer.retry, answer.reason, answer.retry_after) == (chunk, f"HTTP {status}", 7.0)

    def test_retry_after_may_be_a_date(self):
        when = email.utils.formatdate(time.time() + 30, usegmt=True)

        answer = Answer.of(response(503, text="", headers={"Retry-After": when}), items("run.create"))

        assert 25 < answer.retry_after <= 30

    def test_a_413_splits_a_chunk_but_refuses_a_single_event(self):
        assert Answer.of(response(413, text="too large"), items("run.create", "run.end")).too_large
        single = Answer.of(response(413, text="too large"), items("run.create"))
        assert not single.too_large and len(single.refused) == 1

    def test_a_success_without_results_stores_everything(self):
        chunk = items("run.create", "run.end")
        assert Answer.of(response(200, text="not json"), chunk).stored == chunk

    def test_a_network_error_is_retried(self):
        chunk = items("run.create")
        answer = Answer.unreachable(chunk, httpx.ConnectError("[Errno 111] Connection refused"))
        assert (answer.retry, answer.reason) == (chunk, "ConnectError: [Errno 111] Connection refused")


class TestBackoff:
    def test_it_doubles_with_jitter_up_to_the_maximum(self):
        backoff = Backoff(CONFIG)
        delays = [backoff.next(None, None) for _ in range(4)]
        for delay, ceiling in zip(delays, [0.5, 1.0, 2.0, 3.0], strict=True):
            assert ceiling / 2 <= delay <= ceiling

    def test_it_gives_up_after_the_retries(self):
        backoff = Backoff(CONFIG)
        assert all(backoff.next(None, None) is not None for _ in range(CONFIG.max_retries))
        assert backoff.next(None, None) is None
        assert backoff.attempts == CONFIG.max_retries + 1

    def test_retry_after_wins_up_to_five_minutes(self):
        assert Backoff(CONFIG).next(7.0, None) == 7.0
        assert Backoff(CONFIG).next(3600.0, None) == 300.0

    def test_a_deadline_shortens_the_wait_then_ends_the_retries(self):
        soon = time.monotonic() + 0.2
        assert Backoff(CONFIG).next(7.0, soon) <= 0.2
        assert Backoff(CONFIG).next(None, time.monotonic() - 1) is None


def test_a_steps_update_is_folded_into_its_create_and_counts_for_both():
    batch = [
        (1, {"type": "run.create", "body": {"id": "r"}}),
        (2, {"type": "step.create", "body": {"id": "s", "input": 1}}),
        (3, {"type": "step.update", "body": {"id": "s", "output": 2}}),
        (4, {"type": "step.update", "body": {"id": "other", "output": 3}}),  # its create went earlier
    ]

    merged = _merged(batch)

    assert [(event["type"], weight) for event, weight in merged] == [
        ("run.create", 1),
        ("step.create", 2),
        ("step.update", 1),
    ]
    assert merged[1][0]["body"] == {"id": "s", "input": 1, "output": 2}


class TestTally:
    def test_every_event_is_counted_once_whatever_became_of_it(self):
        tally = Tally()
        tally.take(10)
        tally.store(5)
        tally.refuse(1, "refused by the server (HTTP 404)")
        tally.lose(2, "ConnectError (after 11 attempts)")
        tally.drop()

        stats = tally.stats(queued=3)

        assert stats == {"sent": 5, "refused": 1, "lost": 2, "failed": 3, "dropped": 1, "queued": 5}
        assert stats["sent"] + stats["failed"] + stats["dropped"] + stats["queued"] == 10 + 1 + 3

    def test_the_summary_says_plainly_that_events_were_not_delivered(self):
        stats = {"sent": 3, "refused": 1, "lost": 58, "failed": 59, "dropped": 0, "queued": 2}

        line = summary(stats, "http://127.0.0.1:8000", "ConnectError: [Errno 111] Connection refused")

        assert line == (
            "AgentScope: 61 of 64 events were NOT delivered to http://127.0.0.1:8000 (1 refused by the server, "
            "58 given up, 2 still queued or in flight). Last problem: ConnectError: [Errno 111] Connection refused."
        )

    def test_the_summary_of_a_full_delivery(self):
        stats = {"sent": 58, "refused": 0, "lost": 0, "failed": 0, "dropped": 0, "queued": 0}
        assert summary(stats, "http://x") == "AgentScope: all 58 events were delivered to http://x."
