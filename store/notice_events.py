"""SendGrid delivery events: stored once each, matched to notices, and summed up per notice.

Every event is kept whole (``NoticeEvent.payload``), whatever its type or fields, and
at most once per ``sg_event_id``. A notice's ``delivery_status`` is then recomputed
from *all* of its stored events, so the result does not depend on the order in which
SendGrid posts them (it does not promise any) or on how often it retries.

Precedence of ``delivery_status``, lowest to highest; the highest seen wins, and
among equals the latest:

    processed < deferred < open < delivered < spamreport < bounce = blocked = dropped

So a failure is never hidden by anything (an "open" after a "bounce" leaves
"bounce"), "delivered" is not hidden by a late "processed", "deferred" or "open",
and a spam report (which implies delivery) shows over "delivered". Failures of any
recipient, including a "copy to" address, count: the notice as a whole was not
delivered as the contract requires. Other events (click, unsubscribe, unknown types)
are stored but do not change the status.

``delivered_at`` is the earliest "delivered" event to a primary (``to``) recipient.
``deemed_received_at`` follows the contract's ``notices.deemed_receipt``: "delivered"
takes ``delivered_at`` (none while the notice stands failed, even after a delivery
report); "sent" takes the notice's ``sent_at``. That rule is :func:`deemed_received_at`
and what it means in words is :func:`deemed_receipt`: the evidence record and the
console read both from the notice's stored fields, so they cannot disagree with
``delivery_status``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from contracts.calendar import describe_instant
from contracts.terms import TermSheet
from store.db import get_engine
from store.models import AuditEntry, Case, Contract, Notice, NoticeEvent

#: Delivery statuses by precedence; events not listed leave the status as it is.
PRECEDENCE: dict[str, int] = {
    "processed": 1,
    "deferred": 2,
    "open": 3,
    "delivered": 4,
    "spamreport": 5,
    "bounce": 6,
    "blocked": 6,
    "dropped": 6,
}

#: Statuses that mean the notice did not reach (all of) its recipients.
FAILURES = frozenset({"bounce", "blocked", "dropped"})

_MAX_EVENT_ID = 200  # NoticeEvent.sg_event_id
_MAX_EVENT_NAME = 40  # NoticeEvent.event


@dataclass(frozen=True)
class FailureReport:
    """A failure event of a known notice, to be reported to the notice's case."""

    case_id: str
    notice_key: str
    notice: str
    event: str  # bounce, blocked or dropped
    reason: str


@dataclass
class StoreResult:
    """What one webhook request changed."""

    received: int = 0
    stored: int = 0
    duplicates: int = 0
    matched: int = 0
    failures: list[FailureReport] = field(default_factory=list)


def delivery_status_of(payload: dict[str, Any]) -> str:
    """The delivery status an event stands for: its type, with bounces split by ``type``.

    SendGrid reports a block as a "bounce" event whose ``type`` is "blocked".
    """
    name = str(payload.get("event") or "unknown")
    if name == "bounce" and payload.get("type") == "blocked":
        return "blocked"
    return name


def event_id_of(payload: dict[str, Any]) -> str:
    """The event's ``sg_event_id``; events without one get a hash of their content.

    Legacy events carry no id; hashing the canonical JSON keeps a redelivered copy
    from being stored twice.
    """
    raw = payload.get("sg_event_id")
    if isinstance(raw, str) and raw and len(raw) <= _MAX_EVENT_ID:
        return raw
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def occurred_at_of(payload: dict[str, Any], fallback: dt.datetime) -> dt.datetime:
    """The event's ``timestamp`` (Unix seconds) as UTC, else ``fallback``."""
    ts = payload.get("timestamp")
    if isinstance(ts, int | float) and not isinstance(ts, bool):
        try:
            return dt.datetime.fromtimestamp(ts, dt.UTC)
        except (OverflowError, OSError, ValueError):
            pass
    return fallback


def _failure_reason(payload: dict[str, Any]) -> str:
    parts = [str(payload[k]) for k in ("reason", "response", "status") if payload.get(k)]
    to = f"to {payload['email']}" if payload.get("email") else "to its recipient"
    return f"{to}: {'; '.join(parts) or 'no reason given'}"


def _find_notice(session: Session, payload: dict[str, Any]) -> Notice | None:
    """The notice an event is about: by its custom args, else by its SendGrid message id."""
    notice_id = payload.get("notice_id")
    if isinstance(notice_id, str) and notice_id:
        notice = session.get(Notice, notice_id)
        case_id = payload.get("case_id")
        if notice is not None and (not case_id or case_id == notice.case_id):
            return notice
    sg_message_id = payload.get("sg_message_id")
    if isinstance(sg_message_id, str) and sg_message_id:
        # sg_message_id is the X-Message-Id followed by ".filter..." and more; the id
        # itself may contain dots, so try every prefix that ends at a dot.
        parts = sg_message_id.split(".")
        prefixes = [".".join(parts[:i]) for i in range(1, len(parts) + 1)]
        rows = session.exec(
            select(Notice).where(col(Notice.provider_message_id).in_(prefixes))
        ).all()
        if rows:
            return max(rows, key=lambda n: len(n.provider_message_id or ""))
    return None


def _deemed_receipt_rule(session: Session, notice: Notice) -> str:
    case = session.get(Case, notice.case_id)
    contract = session.get(Contract, case.contract_id) if case else None
    if contract is None:
        return "delivered"
    return TermSheet.model_validate(contract.terms).notices.deemed_receipt


def deemed_received_at(
    rule: str,
    *,
    sent_at: dt.datetime | None,
    delivery_status: str | None,
    delivered_at: dt.datetime | None,
) -> dt.datetime | None:
    """When a notice counts as received under ``notices.deemed_receipt``, if it does.

    "sent": when it was sent, whatever the provider reports later. "delivered": when
    the provider reported it delivered, unless its status is a failure: a bounce, block
    or drop (even after a delivery report) means it did not reach its recipients.
    """
    if rule == "sent":
        return sent_at
    return None if delivery_status in FAILURES else delivered_at


@dataclass(frozen=True)
class DeemedReceipt:
    """Whether and when a notice counts as received, and why, in words."""

    rule: str
    status: str  # known, not_yet_known or not_delivered
    at: dt.datetime | None
    explanation: str


def deemed_receipt(
    notice: Notice, rule: str, events: Sequence[NoticeEvent], zone: str
) -> DeemedReceipt:
    """:func:`deemed_received_at` of the notice's stored fields, explained; never a guess.

    ``events`` are the notice's stored events; they name the failure behind a failed
    ``delivery_status`` (its time and reason), and nothing else is taken from them.
    """
    at = deemed_received_at(
        rule,
        sent_at=notice.sent_at,
        delivery_status=notice.delivery_status,
        delivered_at=notice.delivered_at,
    )
    named = f"The contract's notice terms (notices.deemed_receipt = {rule!r})"
    failure = _failure_story(notice, events, zone)
    if rule == "sent":
        how = "deem a notice received when it is sent"
        if at is None:
            return DeemedReceipt(
                rule,
                "not_yet_known",
                None,
                f"{named} {how}; it has not been sent (status {notice.status}), so the time "
                "of receipt is not yet known.",
            )
        later = (
            f" {failure}; under this rule it still counts as received when it was sent, "
            "although it did not reach all of its recipients."
            if failure
            else ""
        )
        return DeemedReceipt(
            rule, "known", at, f"{named} {how}; it was sent {describe_instant(at, zone)}.{later}"
        )
    how = "deem a notice received when it is delivered"
    if at is not None:
        return DeemedReceipt(
            rule,
            "known",
            at,
            f"{named} {how}: when the recipient's mail server accepted it (the provider's "
            f"delivered event), {describe_instant(at, zone)}.",
        )
    if failure:
        return DeemedReceipt(
            rule,
            "not_delivered",
            None,
            f"{named} {how}; {failure}, so it did not reach all of its recipients and is not "
            "deemed received: written notice has not been given by this notice.",
        )
    if notice.channel == "outbox":
        why = (
            "it was kept in the local outbox, which reports no delivery, so the time of "
            "receipt is not known."
        )
    else:
        why = "no delivered event has been reported yet, so the time of receipt is not yet known."
    return DeemedReceipt(rule, "not_yet_known", None, f"{named} {how}; {why}")


def _failure_story(notice: Notice, events: Sequence[NoticeEvent], zone: str) -> str:
    """What the provider reported, when the notice's status is a failure; else ""."""
    status = notice.delivery_status
    if status not in FAILURES:
        return ""
    failures = [e for e in events if delivery_status_of(e.payload) == status]
    latest = max(failures, key=lambda e: (e.occurred_at, e.id or 0), default=None)
    told = f"the provider reported {status}"
    if latest is not None:
        reason = latest.payload.get("reason") or latest.payload.get("response") or ""
        told += f" {describe_instant(latest.occurred_at, zone)}"
        told += f" ({reason})" if reason else ""
    if notice.delivered_at is None:
        return told + " and no delivery"
    when = describe_instant(notice.delivered_at, zone)
    if latest is not None and latest.occurred_at > notice.delivered_at:
        return f"{told}, after a delivery report {when}"
    return f"{told}, besides a delivery report {when}"


def notice_receipt(session: Session, notice: Notice) -> DeemedReceipt:
    """:func:`deemed_receipt` of a stored notice, under its contract's rule and zone."""
    case = session.get(Case, notice.case_id)
    contract = session.get(Contract, case.contract_id) if case else None
    events = session.exec(select(NoticeEvent).where(NoticeEvent.notice_id == notice.id)).all()
    zone = contract.time_zone if contract else "UTC"
    return deemed_receipt(notice, _deemed_receipt_rule(session, notice), events, zone)


def refresh_notice(session: Session, notice: Notice) -> None:
    """Recomputes a notice's delivery status and times from all of its stored events."""
    events = session.exec(select(NoticeEvent).where(NoticeEvent.notice_id == notice.id)).all()
    best: tuple[int, dt.datetime, int] | None = None
    status = notice.delivery_status
    delivered: list[dt.datetime] = []
    primary = {e.lower() for e in notice.to}
    cc_only = {e.lower() for e in notice.cc} - primary
    for ev in events:
        name = delivery_status_of(ev.payload)
        rank = PRECEDENCE.get(name)
        if rank is not None:
            key = (rank, ev.occurred_at, ev.id or 0)
            if best is None or key > best:
                best, status = key, name
        email = str(ev.payload.get("email") or "").lower()
        if name == "delivered" and email not in cc_only:
            delivered.append(ev.occurred_at)
    notice.delivery_status = status
    notice.delivered_at = min(delivered) if delivered else None
    notice.deemed_received_at = deemed_received_at(
        _deemed_receipt_rule(session, notice),
        sent_at=notice.sent_at,
        delivery_status=status,
        delivered_at=notice.delivered_at,
    )
    session.add(notice)


def store_events(
    events: list[dict[str, Any]], received_at: dt.datetime, *, actor: str = "sendgrid"
) -> StoreResult:
    """Stores new events once each, updates their notices, and lists the failures to report.

    Failures are listed for repeated events too: if an earlier request stored them but
    could not reach the case, the retry must report them (the case handles each
    notice's failure once, however often it is told).

    Args:
        events: The webhook's JSON array, each a JSON object.
        received_at: When the request arrived.
        actor: Who the audit trail names for failures.
    """
    try:
        return _store_once(events, received_at, actor)
    except IntegrityError:
        # A concurrent request stored some of the same events first; now they are duplicates.
        return _store_once(events, received_at, actor)


def _store_once(events: list[dict[str, Any]], received_at: dt.datetime, actor: str) -> StoreResult:
    result = StoreResult(received=len(events))
    with Session(get_engine(), expire_on_commit=False) as session:
        ids = [event_id_of(p) for p in events]
        existing = {
            e.sg_event_id: e
            for e in session.exec(
                select(NoticeEvent).where(col(NoticeEvent.sg_event_id).in_(set(ids)))
            ).all()
        }
        touched: dict[str, Notice] = {}
        reported: set[tuple[str, str, str]] = set()
        for payload, event_id in zip(events, ids, strict=True):
            stored = existing.get(event_id)
            if stored is not None:
                result.duplicates += 1
                notice = session.get(Notice, stored.notice_id) if stored.notice_id else None
                payload = stored.payload  # the first copy is the one kept
            else:
                notice = _find_notice(session, payload)
                row = NoticeEvent(
                    sg_event_id=event_id,
                    notice_id=notice.id if notice else None,
                    event=str(payload.get("event") or "unknown")[:_MAX_EVENT_NAME],
                    occurred_at=occurred_at_of(payload, received_at),
                    received_at=received_at,
                    payload=payload,
                )
                session.add(row)
                existing[event_id] = row
                result.stored += 1
            if notice is None:
                continue
            result.matched += 1
            touched[notice.id] = notice
            status = delivery_status_of(payload)
            if status not in FAILURES:
                continue
            reason = _failure_reason(payload)
            if stored is None:
                # The case's timeline shows the failure even if the case has ended.
                case = session.get(Case, notice.case_id)
                session.add(
                    AuditEntry(
                        at=received_at,
                        actor=actor,
                        action=f"notice_{status}",
                        contract_id=case.contract_id if case else None,
                        case_id=notice.case_id,
                        reason=f"notice {notice.notice} {notice.id} {reason}",
                        after={"notice_id": notice.id, "sg_event_id": event_id, "event": status},
                    )
                )
            key = (notice.case_id, notice.notice_key, status)
            if key not in reported:
                reported.add(key)
                result.failures.append(
                    FailureReport(notice.case_id, notice.notice_key, notice.notice, status, reason)
                )
        session.flush()
        for notice in touched.values():
            refresh_notice(session, notice)
        session.commit()
    return result
