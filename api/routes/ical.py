"""``GET /calendar/{token}.ics``: a contract's deadlines as an iCalendar feed.

Calendar apps send no credentials, so the unguessable token is the credential; an
unknown or revoked token is a 404. The URL is made by ``api/routes/calendar.py``.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Response

from api.calendar_feeds import feed_calendar
from api.deps import SessionDep, SettingsDep

router = APIRouter(prefix="/calendar", tags=["calendar"])


@router.get(
    "/{token}.ics",
    response_class=Response,
    responses={
        200: {"content": {"text/calendar": {}}, "description": "The iCalendar feed"},
        404: {"description": "Unknown or revoked feed"},
    },
)
def calendar_feed(token: str, session: SessionDep, settings: SettingsDep) -> Response:
    """The contract's pending deadlines as iCalendar events (no bearer token: the URL is secret)."""
    body = feed_calendar(session, token, settings)
    if body is None:
        raise HTTPException(404, "no such calendar feed")
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={
            "Content-Disposition": 'inline; filename="deadlines.ics"',
            "Cache-Control": "private, max-age=300",
            "X-Content-Type-Options": "nosniff",
        },
    )
