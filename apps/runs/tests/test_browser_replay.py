"""Replay in real Chromium: a run recorded by the demo agent, replayed from step 3 with an edited
input, the printed command run as a developer would, and the diff that shows the change."""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from apps.runs.models import Run, RunStatus
from apps.runs.tests.test_browser import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[3]
SHOTS = os.environ.get("AGENTSCOPE_SCREENSHOTS")  # a folder: save what the test sees there


def shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def test_replay_from_step_3_with_an_edited_input(page, live_server, client, alice, api_key):
    env = {**os.environ, "AGENTSCOPE_BASE_URL": live_server.url, "AGENTSCOPE_API_KEY": api_key[1]}
    recorded = subprocess.run(
        [sys.executable, "examples/research_agent.py", "--runs", "1"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert recorded.returncode == 0, recorded.stdout + recorded.stderr
    original = Run.objects.get()
    assert original.steps.get(step_index=3).name == "read_document"
    sign_in(page, live_server, client, alice)

    page.goto(f"/runs/{original.pk}?step=3")
    page.get_by_role("button", name="Replay").click()
    dialog = page.locator("#replay-dialog")
    dialog.wait_for(state="visible")
    assert dialog.locator("#replay-from").input_value() == "3"  # the selected step
    step_input = dialog.locator("#replay-step-input")
    assert '"doc_id"' in step_input.input_value()
    step_input.fill('{"doc_id": "saturn"}')
    shot(page, "1-replay-modal")
    dialog.get_by_role("button", name="Create replay").click()

    command = dialog.locator("[data-replay-command]")
    command.wait_for()
    replay = Run.objects.get(replay_of=original)
    assert command.inner_text() == f"agentscope replay {replay.pk} --agent module:function"
    shot(page, "2-replay-created")

    dialog.get_by_role("link", name="Open the replay").click()
    page.wait_for_url(re.compile(rf"/runs/{replay.pk}$"))
    assert page.locator("[data-pending-replay]").is_visible()
    assert page.locator("#pending-command").inner_text() == command_text(replay)
    # The steps before the fork are the recording's, marked so; the inspector says where they come from.
    assert page.locator(".tl-row.is-copied").count() == 3 and page.locator("#step-2 .tl-copied").is_visible()
    page.locator("#step-1 .tl-link").click()
    page.locator("#inspector[data-step='1'] [data-copied-step]").wait_for()
    shot(page, "3-pending-replay")

    # The developer puts their agent in place of the placeholder and runs the command.
    argv = shlex.split(command_text(replay).replace("module:function", "examples.research_agent:research"))
    argv[0] = str(Path(sys.executable).with_name("agentscope"))
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Replayed 2 recorded step(s) without executing them; ran 4 live." in done.stdout

    # The live header notices the end (its next poll, every 2 s) and opens the comparison with the original.
    assert Run.objects.get(pk=replay.pk).status == RunStatus.COMPLETED
    page.wait_for_url(re.compile(rf"/runs/{original.pk}/compare/{replay.pk}$"), timeout=30_000)
    names = page.locator(".compare-row.kind-changed .cmp-name").all_inner_texts()
    assert names[:2] == ["search_corpus", "read_document"]  # the parent returned the edited document too
    fork = page.locator(".compare-row.kind-changed").nth(1).locator(".compare-diff").inner_text()
    assert "$.doc_id" in fork and '"saturn"' in fork
    identical = page.locator(".compare-row.kind-identical .cmp-name").all_inner_texts()
    assert identical[:2] == ["plan", "read_document"]  # replayed from the recording
    shot(page, "4-compare")
    assert Run.objects.get(pk=replay.pk).status == RunStatus.COMPLETED


def command_text(replay) -> str:
    return f"agentscope replay {replay.pk} --agent module:function"
