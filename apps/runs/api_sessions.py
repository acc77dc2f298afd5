"""/api/sessions: JWT or session, scoped to the caller's projects; another tenant's session is a 404."""

from dataclasses import asdict

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.decorators import api_view
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from apps.core.api import validated
from apps.runs import selectors, sessions
from apps.runs.api import BAD_INPUT, page_url
from apps.runs.serializers import (
    RUNS_PAGE_SIZE,
    ConversationOutput,
    SessionDetailOutput,
    SessionListInput,
    SessionListOutput,
    TurnOutput,
)


def _cursor(decode, text: str | None):
    if not text:
        return None
    try:
        return decode(text)
    except ValueError:
        raise ValidationError({"cursor": ["Not a valid cursor: use the `next` URL as given."]}) from None


@extend_schema(
    operation_id="api_sessions_list",
    tags=["sessions"],
    parameters=[SessionListInput],
    responses={200: SessionListOutput, 400: BAD_INPUT, 404: OpenApiResponse(description="project_id isn't yours.")},
    description="Sessions (runs sharing a `session_id`) by last activity, newest first; follow `next`.",
)
@api_view(["GET"])
def session_list(request):
    args = validated(SessionListInput, request.query_params)
    project_ids = selectors.project_ids_for_user(user=request.user, project_id=args.get("project_id"))
    cursor = _cursor(sessions.SessionCursor.decode, args.get("cursor"))
    page = sessions.sessions_page(project_ids=project_ids, cursor=cursor, size=args.get("page_size", RUNS_PAGE_SIZE))
    return Response(
        {
            "next": page_url(request, cursor=page.older.encode()) if page.older else None,
            "results": ConversationOutput([asdict(one) for one in page.sessions], many=True).data,
        }
    )


@extend_schema(
    tags=["sessions"],
    parameters=[SessionListInput],
    responses={200: SessionDetailOutput, 400: BAD_INPUT, 404: OpenApiResponse(description="No such session.")},
    description="The session and its turns (runs, with input and output) oldest first; `turns_next` for more.",
)
@api_view(["GET"])
def session_detail(request, session_id):
    args = validated(SessionListInput, request.query_params)
    project_ids = selectors.project_ids_for_user(user=request.user, project_id=args.get("project_id"))
    found = sessions.session_get(project_ids=project_ids, session_id=session_id)
    cursor = _cursor(sessions.TurnCursor.decode, args.get("cursor"))
    size = args.get("page_size", RUNS_PAGE_SIZE)
    page = sessions.session_turns(project_ids=project_ids, session_id=session_id, cursor=cursor, size=size)
    body = ConversationOutput(asdict(found)).data
    body["turns"] = TurnOutput(page.runs, many=True).data
    body["turns_next"] = page_url(request, cursor=page.later.encode()) if page.later else None
    return Response(body)
