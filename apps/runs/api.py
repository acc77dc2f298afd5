"""/api/runs: JWT or session, scoped to the caller's projects; another tenant's run is a 404."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.decorators import api_view
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from apps.core.api import validated
from apps.core.pagination import paginated, paginates
from apps.core.replica import replica_reads
from apps.orgs.audit import actor_from_request
from apps.projects.selectors import project_get
from apps.runs import prices, selectors, services
from apps.runs.compare import runs_compare
from apps.runs.registry import run_list as registered_list
from apps.runs.replay import replay_command, run_replay_create
from apps.runs.serializers import (
    RUNS_PAGE_SIZE,
    STEP_COLUMNS,
    STEPS_MAX_PAGE_SIZE,
    STEPS_PAGE_SIZE,
    TIMELINE_PAGE_SIZE,
    CompareOutput,
    CustomPriceInput,
    CustomPriceOutput,
    ReplayInput,
    ReplayOutput,
    RunDetailOutput,
    RunFilterInput,
    RunListOutput,
    RunRowOutput,
    StepListOutput,
    StepPageInput,
    TimelineInput,
    TimelineOutput,
    TimelineRunOutput,
    TimelineStepOutput,
    search_match,
    step_rows,
)
from apps.runs.timeline import timeline_steps, timeline_window

NOT_FOUND = OpenApiResponse(description="No such run among your projects.")
BAD_INPUT = OpenApiResponse(description='A filter is invalid: {"detail": ..., "errors": {field: [...]}}.')


def page_url(request, **params) -> str:
    """This request's URL with `params` set (None removes one)."""
    url = request.build_absolute_uri()
    for key, value in params.items():
        url = remove_query_param(url, key) if value is None else replace_query_param(url, key, value)
    return url


def cursor_from(filters: dict) -> selectors.RunCursor | None:
    if not filters.get("cursor"):
        return None
    try:
        return selectors.RunCursor.decode(filters["cursor"])
    except ValueError:
        raise ValidationError({"cursor": ["Not a valid cursor: use the `next` or `previous` URL as given."]}) from None


@extend_schema(
    tags=["runs"],
    operation_id="runs_list",
    parameters=[RunFilterInput],
    responses={200: RunListOutput, 400: BAD_INPUT, 404: OpenApiResponse(description="project_id isn't yours.")},
    description="Runs newest first, by cursor: follow `next` for older runs and `previous` for newer ones.",
)
@replica_reads
@api_view(["GET"])
def run_list(request):
    filters = validated(RunFilterInput, request.query_params)
    project_ids = selectors.project_ids_for_user(user=request.user, project_id=filters.get("project_id"))
    if errors := registered_list.refused(request.query_params, project_ids=project_ids):
        raise ValidationError(errors)
    runs = selectors.runs_for_filters(project_ids=project_ids, filters=filters)
    runs, _ = registered_list.filtered(runs, request.query_params, project_ids=project_ids)
    runs = selectors.runs_rows(runs)
    page = selectors.runs_page(runs, cursor=cursor_from(filters), size=filters.get("page_size", RUNS_PAGE_SIZE))
    results = RunRowOutput(page.runs, many=True).data
    hits = selectors.search_hits(runs=page.runs, q=filters.get("q"))
    for row, run in zip(results, page.runs, strict=True):
        if run.pk in hits:
            row["match"] = search_match(hits[run.pk])
    return Response(
        {
            "next": page_url(request, cursor=page.older.encode()) if page.older else None,
            "previous": page_url(request, cursor=page.newer.encode()) if page.newer else None,
            "results": results,
        }
    )


@extend_schema(
    methods=["GET"],
    tags=["runs"],
    responses={200: RunDetailOutput, 404: NOT_FOUND},
    description="The run with its first 1,000 steps; `steps_next` pages through the rest.",
)
@extend_schema(methods=["DELETE"], tags=["runs"], responses={204: None, 404: NOT_FOUND})
@replica_reads
@api_view(["GET", "DELETE"])
def run_detail(request, run_id):
    action = "run.delete" if request.method == "DELETE" else "read"
    run = selectors.run_get_for_user(user=request.user, run_id=run_id, action=action)
    if request.method == "DELETE":
        services.run_delete(run=run, actor=actor_from_request(request))
        return Response(status=204)
    page = selectors.steps_page(step_values(run), size=STEPS_MAX_PAGE_SIZE)
    body = RunRowOutput(run).data | {key: getattr(run, key) for key in ("input", "output", "metadata", "error")}
    body["steps"], body["steps_next"] = step_rows(page.steps), None
    if page.has_after:
        path = request.build_absolute_uri(f"{request.path.rstrip('/')}/steps")
        body["steps_next"] = replace_query_param(path, "after", page.steps[-1]["step_index"])
    return Response(body)


def step_values(run):
    return selectors.steps_for_run(run=run).values(*STEP_COLUMNS)


@extend_schema(
    tags=["runs"],
    parameters=[StepPageInput],
    responses={200: StepListOutput, 400: BAD_INPUT, 404: NOT_FOUND},
    description="Steps in index order, `page_size` at a time (default 100, at most 1,000).",
)
@replica_reads
@api_view(["GET"])
def run_steps(request, run_id):
    run = selectors.run_get_for_user(user=request.user, run_id=run_id)
    args = validated(StepPageInput, request.query_params)
    page = selectors.steps_page(
        step_values(run),
        after=args.get("after"),
        before=args.get("before"),
        size=args.get("page_size", STEPS_PAGE_SIZE),
    )
    first, last = (page.steps[0]["step_index"], page.steps[-1]["step_index"]) if page.steps else (None, None)
    return Response(
        {
            "next": page_url(request, after=last, before=None) if page.has_after and page.steps else None,
            "previous": page_url(request, before=first, after=None) if page.has_before and page.steps else None,
            "results": step_rows(page.steps),
        }
    )


@extend_schema(
    tags=["runs"],
    parameters=[TimelineInput],
    responses={200: TimelineOutput, 400: BAD_INPUT, 404: NOT_FOUND},
    description=(
        "What the timeline draws, per step: start offset and duration relative to the run (ms), depth "
        "and parent, tokens and whether it has an error. No input or output payloads. Paged by step "
        "index (default 200, at most 1,000); with a `type` or `name` filter every depth is 0."
    ),
)
@replica_reads
@api_view(["GET"])
def run_timeline(request, run_id):
    run = selectors.run_get_for_user(user=request.user, run_id=run_id)
    args = validated(TimelineInput, request.query_params)
    filtered = bool(args.get("type") or args.get("name"))
    window = timeline_window(
        run=run,
        steps=timeline_steps(run=run, step_type=args.get("type"), name=args.get("name")),
        after=args.get("after"),
        before=args.get("before"),
        size=args.get("page_size", TIMELINE_PAGE_SIZE),
        flat=filtered,
    )
    has_rows = bool(window.entries)
    return Response(
        {
            "run": TimelineRunOutput(run).data,
            "total_ms": window.total_ms,
            "steps": TimelineStepOutput(window.entries, many=True).data,
            "next": page_url(request, after=window.last_index, before=None) if window.has_after and has_rows else None,
            "previous": page_url(request, before=window.first_index, after=None)
            if window.has_before and has_rows
            else None,
        }
    )


@extend_schema(
    tags=["runs"],
    request=ReplayInput,
    responses={201: ReplayOutput, 400: BAD_INPUT, 404: NOT_FOUND},
    description=(
        "Creates a pending replay of the run from step `from_step`: a new run whose steps before it are "
        "copies of the recorded ones. Run it with the `command` it answers (the SDK's replay mode)."
    ),
)
@api_view(["POST"])
def run_replay(request, run_id):
    run = selectors.run_get_for_user(user=request.user, run_id=run_id, action="run.replay")
    replay = run_replay_create(run=run, **validated(ReplayInput, request.data))
    replay.command = replay_command(replay)
    return Response(ReplayOutput(replay).data, status=201)


@extend_schema(
    tags=["runs"],
    responses={200: CompareOutput, 404: NOT_FOUND},
    description="Aligns the steps of two of your runs and marks each identical, changed (with a JSON diff), added "
    "or removed; compares their totals.",
)
@api_view(["GET"])
def run_compare(request, run_id, other_id):
    a = selectors.run_get_for_user(user=request.user, run_id=run_id)
    b = selectors.run_get_for_user(user=request.user, run_id=other_id)
    return Response(CompareOutput(runs_compare(a=a, b=b)).data)


# Custom prices ------------------------------------------------------------------------------------


@extend_schema(methods=["GET"], tags=["prices"], responses={200: CustomPriceOutput(many=True)})
@extend_schema(methods=["POST"], tags=["prices"], request=CustomPriceInput, responses={201: CustomPriceOutput})
@paginates
@api_view(["GET", "POST"])
def price_list(request, project_id):
    """A project's own prices per million tokens: they win over the price table for the models they name."""
    project = project_get(
        user=request.user, project_id=project_id, action="read" if request.method == "GET" else "price.write"
    )
    if request.method == "GET":
        return paginated(request, prices.custom_prices_for_project(project=project), CustomPriceOutput)
    price = prices.custom_price_create(project=project, data=validated(CustomPriceInput, request.data))
    return Response(CustomPriceOutput(price).data, status=201)


@extend_schema(methods=["GET"], tags=["prices"], responses={200: CustomPriceOutput})
@extend_schema(
    methods=["PATCH"], tags=["prices"], request=CustomPriceInput(partial=True), responses={200: CustomPriceOutput}
)
@extend_schema(methods=["DELETE"], tags=["prices"], responses={204: None})
@api_view(["GET", "PATCH", "DELETE"])
def price_detail(request, project_id, price_id):
    project = project_get(
        user=request.user, project_id=project_id, action="read" if request.method == "GET" else "price.write"
    )
    price = prices.custom_price_get(project=project, price_id=price_id)
    if request.method == "GET":
        return Response(CustomPriceOutput(price).data)
    if request.method == "DELETE":
        prices.custom_price_delete(price=price)
        return Response(status=204)
    price = prices.custom_price_update(price=price, data=validated(CustomPriceInput, request.data, partial=True))
    return Response(CustomPriceOutput(price).data)
