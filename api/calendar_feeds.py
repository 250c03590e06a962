"""A contract's calendar feed: its secret URL, and its deadlines as iCalendar.

Shared by the API (``api/routes/calendar.py`` makes and revokes the URL,
``api/routes/ical.py`` serves the feed) and the console's contract page, which makes a
new URL too.

Each pending deadline of the contract's open cases is one event whose UID stays the
same for the life of the deadline. When an amendment (or a rule) moves a deadline,
``Deadline.revision`` grows; the feed sends it as SEQUENCE, so a subscribed calendar
replaces the event at its new time instead of adding a second one.

A deadline that runs to the end of its last day ("by the end of Thu 31 Dec") is an
all-day event on that day, not a timed one at the midnight after it: see
:func:`build_calendar`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from typing import Any
from urllib.parse import quote

from icalendar import Calendar, Event, vDuration, vText
from sqlmodel import Session, col, select

from api.access import Principal
from contracts.calendar import describe_deadline, describe_instant, ends_its_last_day
from rules.rulebook import default_registry
from runtime.settings import Settings
from store.models import AuditEntry, CalendarFeed, Case, Contract, Deadline

#: How long a timed deadline's event lasts in the calendar (the deadline is its start).
EVENT_LENGTH = dt.timedelta(minutes=30)
#: How often subscribed calendars should fetch the feed again.
REFRESH = dt.timedelta(hours=1)


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


def _audit(
    session: Session,
    now: dt.datetime,
    actor: Principal,
    action: str,
    contract_id: str,
    reason: str,
    **more: Any,
) -> None:
    """An audit entry about the contract's calendar feed."""
    session.add(
        AuditEntry(
            at=now, actor=actor.name, action=action, contract_id=contract_id, reason=reason, **more
        )
    )


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
    reason = "a new calendar feed URL" + (" (the previous one revoked)" if revoked else "")
    _audit(
        session,
        now,
        actor,
        "calendar_feed_created",
        contract_id,
        reason,
        after={"feed_id": feed.id},
    )
    session.commit()
    session.refresh(feed)
    return feed, f"{settings.public_base_url.rstrip('/')}/calendar/{token}.ics"


def revoke_feed(session: Session, contract_id: str, actor: Principal) -> bool:
    """Revokes the contract's feed, with an audit entry; False if it had none."""
    now = dt.datetime.now(dt.UTC)
    if not _revoke(session, contract_id, now):
        return False
    _audit(session, now, actor, "calendar_feed_revoked", contract_id, "calendar feed revoked")
    session.commit()
    return True


def feed_calendar(session: Session, token: str, settings: Settings) -> bytes | None:
    """The feed behind a token, as iCalendar; None for an unknown or revoked token."""
    feed = session.exec(
        select(CalendarFeed).where(
            CalendarFeed.token_hash == token_hash(token), col(CalendarFeed.revoked_at).is_(None)
        )
    ).first()
    contract = session.get(Contract, feed.contract_id) if feed else None
    if feed is None or contract is None:
        return None
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
    return build_calendar(contract, list(rows), settings, dt.datetime.now(dt.UTC))


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
        due_at, zone = _utc(deadline.due_at), contract.time_zone
        whole_day = ends_its_last_day(due_at, deadline.last_day, zone)
        due = f"Due {describe_deadline(due_at, deadline.last_day, zone)}"
        # An all-day event's date carries no instant: the description keeps it, in UTC.
        description = [
            f"{case.state_label}.",
            f"{due} ({due_at:%Y-%m-%dT%H:%M:%SZ})." if whole_day else f"{due}.",
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
        if whole_day and deadline.last_day is not None:
            # "By the end of Thu 31 Dec" is a due date: a calendar shows it on Thu 31 Dec,
            # as the notice says, where a timed event would sit at 00:00 on Fri 1 Jan (and
            # at another hour in another zone). A date is the contract's day everywhere.
            event.add("dtstart", deadline.last_day)
            event.add("dtend", deadline.last_day + dt.timedelta(days=1))
            summary = f"{deadline.label} (end of day) — {clause}"
        else:
            event.add("dtstart", due_at)
            event.add("duration", EVENT_LENGTH)
            summary = f"{deadline.label} — {clause}"
        event.add("sequence", deadline.revision)
        event.add("summary", _Text(summary))
        event.add("description", _Text("\n".join(description)))
        event.add("url", f"{base}/console/cases/{quote(case.id)}")
        event.add("status", "CONFIRMED")
        event.add("transp", "TRANSPARENT")
        calendar.add_component(event)
    # In the order added, as the feed always listed them.
    return calendar.to_ical(sorted=False)
