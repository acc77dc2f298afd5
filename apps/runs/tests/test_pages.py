"""The runs pages: each full page and each htmx partial; login, ownership, query counts."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse

from apps.projects.services import project_create
from apps.runs.models import Run, RunStatus, RunStep
from apps.runs.services import step_update
from apps.runs.tests.conftest import T0, add_steps

pytestmark = pytest.mark.django_db


def htmx(client, url, target, **extra):
    return client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET=target, **extra)


def rows(html: str) -> list[str]:
    return re.findall(r'<tr class="run-row" id="run-([0-9a-f-]+)"', html)


# The list ----------------------------------------------------------------------------------------


def test_list_requires_login(client):
    response = client.get("/runs")
    assert response.status_code == 302 and response["Location"] == "/login?next=/runs"


def test_list_shows_the_current_projects_runs(client_alice, alice, traced_run, make_run, bob_project):
    paused = make_run(agent_name="waiting-agent", end=False, status=RunStatus.PAUSED, started_at=T0 + timedelta(1))
    make_run(project=bob_project, agent_name="bobs-bot")
    make_run(project=project_create(user=alice, name="Staging"), agent_name="staging-bot")
    response = client_alice.get("/runs")
    html = response.content.decode()
    assert response.status_code == 200
    assert rows(html) == [str(paused.pk), str(traced_run.pk)]
    assert 'data-status="paused"' in html and "Paused" in html
    assert f'href="/runs/{traced_run.pk}"' in html  # a real link to the run
    assert "research-assistant" in html and "bobs-bot" not in html and "staging-bot" not in html
    assert '<option value="research-assistant"' in html and '<option value="waiting-agent"' in html
    assert 'hx-push-url="true"' in html and "data-confirm=" in html


def test_list_filters_and_renders_only_the_results_for_htmx(client_alice, make_run):
    failed = make_run(agent_name="sql-agent", error={"message": "boom"})
    make_run(agent_name="sql-agent", started_at=T0 - timedelta(minutes=1))
    make_run(agent_name="triage", error={"message": "boom"}, started_at=T0 - timedelta(minutes=2))
    full = client_alice.get("/runs?status=failed&agent_name=sql-agent")
    assert rows(full.content.decode()) == [str(failed.pk)]
    partial = htmx(client_alice, "/runs?status=failed&agent_name=sql-agent", "runs-results")
    html = partial.content.decode()
    assert rows(html) == [str(failed.pk)]
    assert "<html" not in html and 'class="runs-filters"' not in html and "sidebar" not in html
    assert "HX-Request" in partial["Vary"]


def test_list_pages_by_cursor(client_alice, make_run):
    for i in range(5):
        make_run(agent_name=f"a{i}", started_at=T0 - timedelta(minutes=i))
    first = client_alice.get("/runs?page_size=2").content.decode()
    assert len(rows(first)) == 2
    older = re.search(r'href="(\?[^"]*cursor=[^"]+)"[^>]*rel="next"', first).group(1).replace("&amp;", "&")
    assert "page_size=2" in older
    second = client_alice.get(f"/runs{older}").content.decode()
    assert len(rows(second)) == 2 and not set(rows(second)) & set(rows(first))
    assert 'rel="prev"' in second


def test_list_tells_no_runs_from_no_match(client_alice, make_run):
    empty = client_alice.get("/runs").content.decode()
    assert "No runs yet" in empty and "Get an API key" in empty
    make_run()
    nothing = client_alice.get("/runs?q=zzz").content.decode()
    assert "No runs match these filters" in nothing and "No runs yet" not in nothing


def test_list_ignores_a_bad_filter_and_says_so(client_alice, traced_run):
    html = client_alice.get("/runs?started_after=someday").content.decode()
    assert rows(html) == [str(traced_run.pk)]
    assert "started_after" in html and "This filter is ignored." in html


def test_list_query_count_is_pinned(client_alice, make_run, django_assert_max_num_queries):
    for i in range(25):
        make_run(agent_name=f"agent-{i % 4}", started_at=T0 - timedelta(minutes=i))
    # session, user, current project, switcher's projects, runs, agent names, the sidebar's paused
    # runs, what the registered columns read (one, today: test verdicts) and the tests "failed test" offers
    with django_assert_max_num_queries(9):
        assert len(rows(client_alice.get("/runs").content.decode())) == 25
    # a search: the runs, then their first matching steps and (for runs matched by themselves) the runs' text;
    # on PostgreSQL, its estimate of the matches (which way to search)
    with django_assert_max_num_queries(7 + (connection.vendor == "postgresql")):
        assert len(rows(htmx(client_alice, "/runs?q=agent-2", "runs-results").content.decode())) == 6


def test_delete_from_the_list_removes_the_row(client_alice, traced_run):
    response = client_alice.post(reverse("runs:delete", args=[traced_run.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and response.content == b""
    assert "deleted" in response["HX-Trigger"]
    assert not Run.objects.filter(pk=traced_run.pk).exists()


def test_delete_from_the_run_page_goes_back_to_the_list(client_alice, traced_run):
    response = client_alice.post(reverse("runs:delete", args=[traced_run.pk]), follow=True)
    assert response.redirect_chain[-1][0] == "/runs"
    assert "deleted, with its 5 steps" in response.content.decode()


def test_delete_checks_ownership_and_method(client_alice, make_run, bob_project):
    bobs = make_run(project=bob_project)
    assert client_alice.post(reverse("runs:delete", args=[bobs.pk])).status_code == 404
    assert client_alice.get(reverse("runs:delete", args=[bobs.pk])).status_code == 405
    assert Run.objects.filter(pk=bobs.pk).exists()


# The run debugger --------------------------------------------------------------------------------


PARTS = ("header", "inspector", "timeline", "timeline_page")  # the run page's parts, each with its URL


def test_detail_requires_login_and_checks_ownership(client, client_alice, make_run, bob_project):
    bobs = make_run(project=bob_project)
    url = reverse("runs:detail", args=[bobs.pk])
    assert client_alice.get(url).status_code == 404
    for part in PARTS:
        assert htmx(client_alice, reverse(f"runs:{part}", args=[bobs.pk]), part).status_code == 404, part
        assert client_alice.get(reverse(f"runs:{part}", args=[bobs.pk])).status_code == 404, part
    client.logout()
    assert client.get(url).status_code == 302
    for part in PARTS:
        assert client.get(reverse(f"runs:{part}", args=[bobs.pk])).url.startswith("/login"), part


def test_detail_shows_header_timeline_and_the_run_in_the_inspector(client_alice, traced_run):
    html = client_alice.get(reverse("runs:detail", args=[traced_run.pk])).content.decode()
    assert "research-assistant" in html and 'data-status="completed"' in html
    assert 'commandfor="replay-dialog"' in html and "data-replay-button" in html
    for name in ("plan", "lookup", "search", "read_document", "answer"):
        assert f">{name}</span>" in html
    lookup = RunStep.objects.get(run=traced_run, name="lookup")
    assert f'data-parent="{lookup.pk}"' in html and 'class="tl-caret"' in html
    assert re.search(r'id="step-2" data-index="2"', html) and "tone-error d1" in html
    assert 'id="inspector"' in html and "Why is Mars red?" in html  # the run's own input
    assert f"/runs/{traced_run.pk}?step=2" in html  # First error
    assert "tl-poll" not in html and 'hx-trigger="every 2s"' not in html  # an ended run doesn't poll


def test_a_deep_link_opens_that_step(client_alice, traced_run):
    html = client_alice.get(f"/runs/{traced_run.pk}?step=2").content.decode()
    inspector = html[html.index('id="inspector"') :]
    assert 'data-step="2"' in html and "TimeoutError" in inspector and "search timed out" in inspector
    assert 'class="error-stack' in inspector or 'class="code error-stack"' in inspector
    assert 'aria-selected="true"' in inspector and 'id="tab-error"' in inspector
    assert re.search(r'class="tl-row tone-error d1 is-selected" id="step-2"', html)
    missing = client_alice.get(f"/runs/{traced_run.pk}?step=99").content.decode()
    assert "This run has no step 99" in missing


def test_the_inspector_partial_is_the_inspector_alone(client_alice, traced_run):
    response = htmx(client_alice, f"/runs/{traced_run.pk}/inspector?step=0", "inspector")
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="card inspector" id="inspector"')
    assert "timeline-rows" not in html and "<html" not in html
    assert 'id="tl-step" value="0" hx-swap-oob="true"' in html
    assert "gpt-4o-mini" in html and "in 12" in html and "out 4" in html  # model and token split
    assert 'class="chat"' in html and "Look it up." in html  # the conversation next to the JSON
    assert "HX-Target" in response["Vary"]


def test_a_step_loaded_into_the_inspector_names_its_swap_and_url(client_alice, traced_run):
    """The link that asked may have been redrawn by a live poll before the answer lands: htmx would
    then take neither the swap nor the URL from the timeline around it."""
    response = htmx(client_alice, f"/runs/{traced_run.pk}/inspector?step=1&type=tool_call", "inspector")
    assert response["HX-Reswap"] == "outerHTML"
    assert response["HX-Push-Url"] == f"/runs/{traced_run.pk}?step=1&type=tool_call"  # the page's URL
    watching = htmx(client_alice, f"/runs/{traced_run.pk}/inspector?step=1&watch=1", "inspector")
    assert "HX-Push-Url" not in watching and "HX-Reswap" not in watching  # a poll moves nothing
    assert "HX-Push-Url" not in htmx(client_alice, f"/runs/{traced_run.pk}/header", "run-header")


def test_the_timeline_partial_filters_the_steps(client_alice, traced_run):
    response = htmx(client_alice, f"/runs/{traced_run.pk}/timeline?type=tool_call&step=2", "timeline")
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="card timeline" id="timeline"')
    assert response["HX-Push-Url"] == f"/runs/{traced_run.pk}?type=tool_call&step=2"  # the page's URL
    assert ">search</span>" in html and ">read_document</span>" in html and ">plan</span>" not in html
    assert 'id="inspector"' not in html
    assert 'class="tl-row tone-error d0' in html  # filtered: flat


def test_the_header_partial_refreshes_counters_axis_and_root(client_alice, traced_run):
    html = htmx(client_alice, f"/runs/{traced_run.pk}/header", "run-header").content.decode()
    assert html.lstrip().startswith('<header class="card run-header" id="run-header"')
    assert 'id="tl-axis" data-total-ms="2000" hx-swap-oob="true"' in html
    assert 'id="tl-root" data-index="" hx-swap-oob="true"' in html
    assert "inspector" not in html.split("</header>")[-1]


def test_each_part_opened_without_htmx_shows_the_page_with_its_query(client_alice, traced_run):
    for part in ("header", "inspector", "timeline"):
        response = client_alice.get(f"{reverse(f'runs:{part}', args=[traced_run.pk])}?step=2&type=tool_call&watch=1")
        assert (response.status_code, response.url) == (302, f"/runs/{traced_run.pk}?step=2&type=tool_call"), part
    history = htmx(
        client_alice, f"/runs/{traced_run.pk}/inspector?step=2", "inspector", HTTP_HX_HISTORY_RESTORE_REQUEST="true"
    )
    assert history.status_code == 302  # htmx restoring its history wants the page, as a reload does


def test_the_page_is_the_page_whatever_htmx_targets(client_alice, traced_run):
    """No switchboard: the page's URL answers the whole page; each part has its own URL."""
    for target in ("inspector", "run-header", "timeline"):
        html = htmx(client_alice, f"/runs/{traced_run.pk}?step=2", target).content.decode()
        assert "<html" in html and html.count('id="inspector"') == 1 and "hx-swap-oob" not in html, target


def test_every_step_link_asks_for_the_inspector_and_keeps_the_pages_href(client_alice, traced_run):
    html = client_alice.get(f"/runs/{traced_run.pk}?type=tool_call").content.decode()
    links = re.findall(r'<a class="tl-link[^"]*" href="([^"]+)" hx-get="([^"]+)"', html)
    assert len(links) == 3  # the run and its two tool calls
    for href, fragment in links:
        assert fragment.replace("&amp;", "&") == href.replace("&amp;", "&").replace(
            f"/runs/{traced_run.pk}", f"/runs/{traced_run.pk}/inspector", 1
        )
    assert "hx-boost" not in html


def test_a_live_run_polls_and_an_ended_one_stops(client_alice, make_run):
    run = make_run(agent_name="live", end=False)
    running = add_steps(run, [{"step_type": "llm_call", "name": "thinking", "input": {"q": 1}}])[0]
    html = client_alice.get(f"/runs/{run.pk}").content.decode()
    assert 'class="live-pill"' in html and 'hx-trigger="every 2s"' in html
    poller = re.search(r'class="tl-sentinel tl-poll" id="tl-after" hx-get="([^"]+)"', html).group(1)
    assert "after=0" in poller and "running=0" in poller

    add_steps(run, [{"step_type": "tool_call", "name": "search", "output": {"hits": 3}}])
    step_update(run=run, step_id=running.pk, data={"output": {"text": "done"}})
    poll = htmx(client_alice, poller.replace("&amp;", "&"), "tl-after").content.decode()
    assert 'id="step-1"' in poll and ">search</span>" in poll  # the new step, appended
    assert re.search(r'class="tl-row tone-success d0" id="step-0"[^>]*hx-swap-oob="true"', poll)  # now done
    assert "tl-poll" in poll and "after=1" in poll

    run.status = RunStatus.COMPLETED
    run.save(update_fields=["status"])
    last = htmx(client_alice, f"/runs/{run.pk}/timeline/page?after=1&live=1", "tl-after").content.decode()
    assert "tl-poll" not in last and "End of run" in last
    header = htmx(client_alice, f"/runs/{run.pk}/header", "run-header").content.decode()
    assert 'hx-trigger="every 2s"' not in header and "Completed" in header


def test_a_watching_inspector_hears_nothing_until_the_step_ends(client_alice, make_run):
    run = make_run(agent_name="live", end=False)
    step = add_steps(run, [{"step_type": "llm_call", "name": "thinking", "input": {"q": 1}}])[0]
    first = client_alice.get(f"/runs/{run.pk}?step=0").content.decode()
    assert f"/runs/{run.pk}/inspector?step=0&amp;watch=1" in first
    # The poll shares the inspector's request slot with step loads: it gives way instead of queueing
    # ahead of the step asked for.
    assert re.search(r'watch=1"[^>]*hx-sync="this:drop"', first)
    assert htmx(client_alice, f"/runs/{run.pk}/inspector?step=0&watch=1", "inspector").status_code == 204
    step_update(run=run, step_id=step.pk, data={"output": {"text": "done"}})
    done = htmx(client_alice, f"/runs/{run.pk}/inspector?step=0&watch=1", "inspector")
    assert done.status_code == 200 and "done" in done.content.decode() and "watch=1" not in done.content.decode()


def test_a_long_run_opens_around_the_step_without_every_payload(client_alice, long_run):
    html = client_alice.get(f"/runs/{long_run.pk}?step=300").content.decode()
    indexes = [int(i) for i in re.findall(r'id="step-(\d+)" data-index', html)]
    assert indexes == list(range(200, 400))
    assert 'id="tl-before"' in html and "before=200" in html and "after=399" in html
    assert '{"i": 300}' in html and '{"i": 299}' not in html  # the selected step's input, no other's
    assert 'class="tl-row tone-success d1' in html  # step 201's parent 200 is in the window


def test_timeline_pages_after_and_before(client_alice, long_run):
    url = reverse("runs:timeline_page", args=[long_run.pk])
    after = htmx(client_alice, f"{url}?after=399", "tl-after").content.decode()
    assert [int(i) for i in re.findall(r'id="step-(\d+)" data-index', after)] == list(range(400, 450))
    assert "End of run" in after and "<html" not in after
    assert re.search(r'id="step-401" data-index="401" data-id="[^"]+" data-parent=', after)
    before = htmx(client_alice, f"{url}?before=200", "tl-before").content.decode()
    assert [int(i) for i in re.findall(r'id="step-(\d+)" data-index', before)] == list(range(0, 200))
    assert 'id="tl-before"' not in before  # the first step is in it: nothing earlier


def test_timeline_without_htmx_goes_to_the_page(client_alice, long_run):
    url = reverse("runs:timeline_page", args=[long_run.pk])
    response = client_alice.get(f"{url}?after=199&type=custom")
    assert response.status_code == 302 and response["Location"] == f"/runs/{long_run.pk}?step=200&type=custom"


def test_detail_and_timeline_query_counts_are_pinned(client_alice, long_run, django_assert_max_num_queries):
    # session, user, run, window before and after it, an ancestor outside it, the step, the sidebar's
    # current project and project list, the Replay dialog's steps, the run's replays and what the
    # registered panels read (two, today: the verdicts below and their badges in the header), the
    # registered timeline events (one: pauses), and the sidebar's paused runs
    with django_assert_max_num_queries(15):
        client_alice.get(f"/runs/{long_run.pk}?step=302")
    # Partials: session, user, the current project (the context processor asks), then their own.
    with django_assert_max_num_queries(7):  # + run, steps, one ancestor lookup, the pauses
        htmx(client_alice, f"{reverse('runs:timeline_page', args=[long_run.pk])}?after=201", "tl-after")
    with django_assert_max_num_queries(5):  # + run, step
        htmx(client_alice, f"/runs/{long_run.pk}/inspector?step=10", "inspector")


def test_the_sidebar_counts_the_paused_runs_and_links_to_them(client_alice, make_run, django_assert_num_queries):
    assert "data-paused-badge" not in client_alice.get("/runs").content.decode()
    for _ in range(2):
        make_run(end=False, status="paused")
    make_run(end=False)  # running: not waiting for anyone
    html = client_alice.get("/dashboard").content.decode()
    badge = html.split("data-paused-badge>", 1)[1].split("</a>", 1)[0]
    assert badge.endswith("2") and '/runs?status=paused" title="2 paused runs' in html
    with django_assert_num_queries(5):  # session, user, project, runs, their test verdicts: never the paused count
        client_alice.get("/runs", headers={"HX-Request": "true", "HX-Target": "runs-results"})


def test_each_row_previews_what_the_run_was_asked_and_answered(client_alice, make_run):
    make_run(input={"question": "Why is Mars red?"})  # ends with {"answer": 42}
    make_run(agent_name="chat-bot", input=[{"role": "user", "content": "Hello  there"}], error={"message": "boom"})
    html = client_alice.get("/runs").content.decode()
    previews = [row.split("</span>", 1)[0] for row in html.split("data-preview>")[1:]]
    assert sorted(previews) == ["Hello there → boom", "Why is Mars red? → 42"]


def test_a_preview_reads_a_value_cut_short():
    from apps.runs.inspection import gist

    assert gist('{"question": "Why is Mars red?", "context": "' + "x" * 400) == "Why is Mars red?"
    assert gist('{"a": 1, "b": [1, 2]}') == '{"a": 1, "b": [1, 2]}'
    assert gist('"' + "word " * 40 + '"', limit=20) == "word word word word…"


def test_detail_shows_the_framework_an_integration_recorded_the_run_through(client_alice, make_run):
    integration = {"framework": "pydantic-ai", "version": "2.78.0", "actions": ["continue", "abort"]}
    recorded = make_run(metadata={"integration": integration})
    plain = make_run(metadata={"integration": "not an object"})

    html = client_alice.get(f"/runs/{recorded.pk}").content.decode()
    assert re.search(r"data-framework>.*pydantic-ai <code>2\.78\.0</code></span>", html)
    assert "data-framework" not in client_alice.get(f"/runs/{plain.pk}").content.decode()
