"""A contract's calendar feed URL, which Outlook or Google Calendar subscribe to.

* ``POST /api/contracts/{id}/calendar-feed`` makes a new secret URL (and revokes the
  previous one); the URL is answered once and only its token's SHA-256 is stored.
* ``DELETE /api/contracts/{id}/calendar-feed`` revokes it.

The feed itself, ``GET /calendar/{token}.ics``, is ``api/routes/ical.py``; both use
``api/calendar_feeds.py``.
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, HTTPException, Response
from pydantic import BaseModel

from api.access import Manager
from api.calendar_feeds import create_feed, revoke_feed
from api.deps import SessionDep, SettingsDep
from store.models import Contract

router = APIRouter(prefix="/api/contracts/{contract_id}/calendar-feed", tags=["calendar"])


class CalendarFeedCreated(BaseModel):
    """The feed's secret URL: shown once, it cannot be read again."""

    id: str
    contract_id: str
    url: str
    created_at: dt.datetime
    created_by: str


@router.post(
    "",
    status_code=201,
    response_model=CalendarFeedCreated,
    responses={404: {"description": "Unknown contract"}},
)
def create_calendar_feed(
    contract_id: str, session: SessionDep, settings: SettingsDep, actor: Manager
) -> CalendarFeedCreated:
    """Makes the contract's secret calendar URL; the previous URL stops working.

    Subscribe to the URL from Outlook ("Add calendar" → "Subscribe from web") or Google
    Calendar ("From URL"). It is answered only now: keep it, or make a new one.
    """
    made = create_feed(session, contract_id, actor, settings)
    if made is None:
        raise HTTPException(404, f"contract {contract_id!r} not found")
    feed, url = made
    return CalendarFeedCreated(
        id=feed.id,
        contract_id=contract_id,
        url=url,
        created_at=feed.created_at,
        created_by=feed.created_by,
    )


@router.delete(
    "",
    status_code=204,
    responses={404: {"description": "Unknown contract, or it has no calendar feed"}},
)
def revoke_calendar_feed(contract_id: str, session: SessionDep, actor: Manager) -> Response:
    """Revokes the contract's calendar URL: subscribed calendars stop updating."""
    if session.get(Contract, contract_id) is None:
        raise HTTPException(404, f"contract {contract_id!r} not found")
    if not revoke_feed(session, contract_id, actor):
        raise HTTPException(404, f"contract {contract_id!r} has no calendar feed")
    return Response(status_code=204)
