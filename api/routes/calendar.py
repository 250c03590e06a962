"""A contract's deadlines as an iCalendar feed that Outlook or Google Calendar subscribe to.

* ``POST /api/contracts/{id}/calendar-feed`` makes a new secret URL (and revokes the
  previous one); the URL is answered once and only its token's SHA-256 is stored.
* ``DELETE /api/contracts/{id}/calendar-feed`` revokes it.
* ``GET /calendar/{token}.ics`` is the feed itself. Calendar apps send no credentials,
  so the unguessable token is the credential; an unknown or revoked token is a 404.

Each pending deadline of the contract's open cases is one event whose UID stays the
same for the life of the deadline. When an amendment (or a rule) moves a deadline,
``Deadline.revision`` grows; the feed sends it as SEQUENCE, so a subscribed calendar
replaces the event at its new time instead of adding a second one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Response
from icalendar import Calendar, Event, vDuration, vText
from pydantic import BaseModel
from sqlmodel import Session, col, select

from api.access import Manager, Principal
from api.deps import SessionDep, SettingsDep
from rules.rulebook import default_registry
from runtime.settings import Settings
from store.models import AuditEntry, CalendarFeed, Case, Contract, Deadline

router = APIRouter(tags=["calendar"])

#: How long each deadline's event lasts in the calendar (a deadline is an instant).
EVENT_LENGTH = dt.timedelta(minutes=30)
#: How often subscribed calendars should fetch the feed again.
REFRESH = dt.timedelta(hours=1)


class CalendarFeedCreated(BaseModel):
    """The feed's secret URL: shown once, it cannot be read again."""

    id: str
    contract_id: str
    url: str
    created_at: dt.datetime
    created_by: str


def token_hash(token: str) -> str:
    """The SHA-256 (hex) of a feed token, the only form in which it is stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def _revoke(session: Session, contract_id: str, now: dt.datetime) -> int:
    active = session.exec(
        select(CalendarFeed).where(
            CalendarFeed.contract_id == contract_id, col(CalendarFeed.revoked_at).is_(None)
        )
    ).all()
    for feed in active:
        feed.revoked_at = now
        session.add(feed)
    return len(active)


def create_feed(
    session: Session, contract_id: str, actor: Principal, settings: Settings
) -> tuple[CalendarFeed, str] | None:
    """Makes a new feed for the contract, revoking any previous one.

    Returns:
        The feed and its URL (the only time the URL exists outside the caller's
        hands), or None for an unknown contract.
    """
    if session.get(Contract, contract_id) is None:
        return None
    now = dt.datetime.now(dt.UTC)
    revoked = _revoke(session, contract_id, now)
    token = secrets.token_urlsafe(32)
    feed = CalendarFeed(
        id=f"cal_{uuid.uuid4().hex[:20]}",
        contract_id=contract_id,
        token_hash=token_hash(token),
        created_at=now,
        created_by=actor.name,
    )
    session.add(feed)
    session.add(
        AuditEntry(
            at=now,
            actor=actor.name,
            action="calendar_feed_created",
            contract_id=contract_id,
            reason="a new calendar feed URL" + (" (the previous one revoked)" if revoked else ""),
            after={"feed_id": feed.id},
        )
    )
    session.commit()
    session.refresh(feed)
    return feed, f"{settings.public_base_url.rstrip('/')}/calendar/{token}.ics"


@router.post(
    "/api/contracts/{contract_id}/calendar-feed",
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
    "/api/contracts/{contract_id}/calendar-feed",
    status_code=204,
    responses={404: {"description": "Unknown contract, or it has no calendar feed"}},
)
def revoke_calendar_feed(contract_id: str, session: SessionDep, actor: Manager) -> Response:
    """Revokes the contract's calendar URL: subscribed calendars stop updating."""
    if session.get(Contract, contract_id) is None:
        raise HTTPException(404, f"contract {contract_id!r} not found")
    now = dt.datetime.now(dt.UTC)
    if not _revoke(session, contract_id, now):
        raise HTTPException(404, f"contract {contract_id!r} has no calendar feed")
    session.add(
        AuditEntry(
            at=now,
            actor=actor.name,
            action="calendar_feed_revoked",
            contract_id=contract_id,
            reason="calendar feed revoked",
        )
    )
    session.commit()
    return Response(status_code=204)


@router.get(
    "/calendar/{token}.ics",
    response_class=Response,
    responses={
        200: {"content": {"text/calendar": {}}, "description": "The iCalendar feed"},
        404: {"description": "Unknown or revoked feed"},
    },
)
def calendar_feed(token: str, session: SessionDep, settings: SettingsDep) -> Response:
    """The contract's pending deadlines as iCalendar events (no bearer token: the URL is secret)."""
    feed = session.exec(
        select(CalendarFeed).where(
            CalendarFeed.token_hash == token_hash(token), col(CalendarFeed.revoked_at).is_(None)
        )
    ).first()
    contract = session.get(Contract, feed.contract_id) if feed else None
    if feed is None or contract is None:
        raise HTTPException(404, "no such calendar feed")
    rows = session.exec(
        select(Deadline, Case)
        .join(Case, col(Case.id) == col(Deadline.case_id))
        .where(
            Case.contract_id == contract.id,
            col(Case.closed).is_(False),
            Deadline.status == "pending",
        )
        .order_by(col(Deadline.due_at), col(Deadline.case_id), col(Deadline.name))
    ).all()
    body = build_calendar(contract, list(rows), settings, dt.datetime.now(dt.UTC))
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={
            "Content-Disposition": 'inline; filename="deadlines.ics"',
            "Cache-Control": "private, max-age=300",
            "X-Content-Type-Options": "nosniff",
        },
    )


# ---------------------------------------------------------------------------- RFC 5545


def escape_text(value: str) -> str:
    """A TEXT value escaped as RFC 5545 §3.3.11 says: backslash, semicolon, comma, newline.

    By hand: icalendar's escaping turns a literal ``\\N`` (``Acme\\Northwind``) into a line break.
    """
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\r", "\\n")
        .replace("\n", "\\n")
    )


def fold(line: str) -> str:
    """A content line folded at 75 octets (RFC 5545 §3.1), never inside a UTF-8 character.

    Continuation lines start with a space, which counts toward their 75 octets. The feed
    no longer uses it: icalendar folds the feed, and keeps each escape (``\\n``, ``\\,``)
    on one line, which Google Calendar needs. Kept while a test pins it.
    """
    out: list[str] = []
    current, size, limit = "", 0, 75
    for char in line:
        width = len(char.encode())
        if size + width > limit:
            out.append(current)
            current, size, limit = " ", 1, 75
        current += char
        size += width
    out.append(current)
    return "\r\n".join(out)


class _Text(vText):
    """A TEXT value that icalendar writes with :func:`escape_text`."""

    def to_ical(self) -> bytes:
        return escape_text(self).encode()


def _utc(instant: dt.datetime) -> dt.datetime:
    # The store may hand back naive datetimes: they are UTC, and the feed says so (Z).
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=dt.UTC)
    return instant.astimezone(dt.UTC)


def build_calendar(
    contract: Contract, rows: list[Any], settings: Settings, now: dt.datetime
) -> bytes:
    """The feed: one VEVENT per (deadline, case) row, written (CRLF, folded) by icalendar."""
    from contracts.calendar import describe_instant

    base = settings.public_base_url.rstrip("/")
    calendar = Calendar()
    calendar.add("prodid", "-//Clauseflow//Contract deadlines//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    # icalendar leaves X- properties unescaped: these two are TEXT.
    calendar.add("x-wr-calname", _Text(f"{contract.title}: deadlines"))
    calendar.add(
        "x-wr-caldesc", _Text(f"Deadlines of the open cases of {contract.title} (Clauseflow)")
    )
    calendar.add("x-wr-timezone", contract.time_zone)
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(REFRESH))
    registry = default_registry()
    for deadline, case in rows:
        try:
            rulebook = registry.get(case.clause, case.rulebook_version)
            clause = f"{rulebook.title} ({rulebook.section})"
        except Exception:  # a retired rulebook: the clause's name will do
            clause = case.clause.replace("_", " ")
        description = [
            f"{case.state_label}.",
            f"Due {describe_instant(deadline.due_at, contract.time_zone)}.",
        ]
        if deadline.original_due_at is not None:
            description.append(
                "Amended; originally due "
                f"{describe_instant(deadline.original_due_at, contract.time_zone)}."
            )
        description += ["", *deadline.explanation]
        stamp = _utc(deadline.updated_at or now)
        event = Event()
        event.add("uid", f"{case.id}.{deadline.name}@clauseflow")
        event.add("dtstamp", stamp)
        event.add("last-modified", stamp)
        event.add("dtstart", _utc(deadline.due_at))
        event.add("duration", EVENT_LENGTH)
        event.add("sequence", deadline.revision)
        event.add("summary", _Text(f"{deadline.label} — {clause}"))
        event.add("description", _Text("\n".join(description)))
        event.add("url", f"{base}/console/cases/{quote(case.id)}")
        event.add("status", "CONFIRMED")
        event.add("transp", "TRANSPARENT")
        calendar.add_component(event)
    # In the order added, as the feed always listed them.
    return calendar.to_ical(sorted=False)
