"""Sends each notice exactly once: to SendGrid, or to the local outbox. The send state
machine; rules/render.py writes the notice and runtime/sendgrid.py talks to SendGrid.

Exactly once, as far as this activity can promise it:

* The notice row is keyed by (case id, notice key), where the key is derived from the
  rule's decision and the event that caused it, so it is the same on every retry and
  on replay. Rendering is deterministic for the same input.
* Outbox mode: inserting the row *is* the delivery, in one transaction. A retry finds
  the row and returns it, so no second notice can exist.
* SendGrid mode: SendGrid's Mail Send API has no idempotency key; sending the same
  request twice sends two emails. So the activity keeps a small state machine in the
  notice row, committed before and after the one step that cannot be undone:

  ``retry`` (rendered, not handed over) -> ``sending`` (committed *before* the request,
  with ``sent_at`` = when it was handed over) -> ``sent`` with SendGrid's
  ``X-Message-Id`` (committed after the 202), or back to ``retry`` (429/5xx/unreachable:
  not sent) or ``failed`` (400/401/403/413: not sent, and sending again would fail the
  same way).

  Every request carries ``custom_args`` ``notice_id`` (and ``case_id``), so SendGrid
  itself can say whether it accepted a notice. An attempt that finds the row still
  ``sending`` knows an earlier attempt died (or timed out) between handing the message
  over and recording the answer. It asks SendGrid's Email Activity API
  (``GET /v3/messages?query=unique_args['notice_id']="..."``):

  - a message with that notice id was accepted: record it as ``sent`` with its id;
    no second email;
  - definitely not (200 with no match, and the hand-over is older than
    ``SENDGRID_RECONCILE_SETTLE_SECONDS``, since Email Activity shows a message only after a delay):
    send it;
  - no match yet, within ``SENDGRID_RECONCILE_SETTLE_SECONDS``: a retryable error, so Temporal asks
    again later with backoff;
  - the API cannot tell (403: the account lacks the Email Activity add-on, 404, 5xx,
    unreachable): the non-retryable ``NoticeInDoubt`` error. Sending again could
    duplicate a legal notice and not sending could lose one, so the case escalates
    with that reason for a person to check.

* Two attempts at once: an attempt Temporal has timed out may still be running on
  another worker, and nobody reads its answer. So an attempt that finds the row written
  by another one reports the notice done only if it has gone out (otherwise it asks
  again), and the step to ``sending`` is taken only if the row is still as this attempt
  read it (locked while checked), so two attempts never both hand the notice over.

* Retries: 429, 5xx and an unreachable SendGrid raise a retryable error; the workflow's
  retry policy backs off. 400, 401, 403 and 413 raise the non-retryable
  ``NoticeRejected`` ("notice could not be sent: ...") and the case escalates.

``activities.faults.crash_if`` marks the points where the crash tests kill the worker.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.faults import crash_if
from activities.types import SendNoticeInput, SendNoticeResult
from rules.render import NoticeRequest, RenderError, render_notice
from rules.rulebook import default_registry
from runtime import sendgrid
from runtime.settings import get_settings
from store.db import session_scope
from store.models import Notice


def notice_id_for(case_id: str, notice_key: str) -> str:
    """A stable id for a notice, the same on every attempt."""
    return "ntc_" + hashlib.sha256(f"{case_id}\x00{notice_key}".encode()).hexdigest()[:24]


def _reconcile(row: Notice, notice_key: str) -> str | None:
    """Settles a notice left ``sending``: its message id if SendGrid accepted it, else None.

    None means SendGrid definitely did not accept it, so it may be sent.
    """
    try:
        found = sendgrid.accepted_message_ids(row.id)
    except sendgrid.Unknown as exc:
        reason = (
            f"notice {notice_key} may already have been sent: an earlier attempt stopped "
            f"after handing it to SendGrid, and SendGrid cannot confirm it ({exc}); "
            "check SendGrid's activity before resending"
        )
        _set_status(row.id, error=reason)
        raise ApplicationError(reason, type="NoticeInDoubt", non_retryable=True) from exc
    if found:
        return found[0]
    handed_over = row.sent_at
    if handed_over is not None and handed_over.tzinfo is None:
        handed_over = handed_over.replace(tzinfo=dt.UTC)
    settle = dt.timedelta(seconds=get_settings().sendgrid_reconcile_settle_seconds)
    if handed_over is None or dt.datetime.now(dt.UTC) - handed_over < settle:
        raise RuntimeError(
            f"notice {notice_key} was handed to SendGrid at {handed_over} and does not show "
            "in its Email Activity yet; asking again later"
        )
    return None


def _deemed_on_sending(terms: dict[str, Any], sent_at: dt.datetime | None) -> dict[str, Any]:
    """Under a contract that deems notice received when sent, the send time is it."""
    if (terms.get("notices") or {}).get("deemed_receipt") == "sent" and sent_at is not None:
        return {"deemed_received_at": sent_at}
    return {}


def _set_status(notice_id: str, **changes: Any) -> None:
    with session_scope() as session:
        stored = session.get(Notice, notice_id)
        assert stored is not None
        for k, v in changes.items():
            setattr(stored, k, v)
        session.add(stored)


def _written(inp: SendNoticeInput) -> dict[str, Any]:
    """The notice's columns as rendered for ``inp``, with the hashes of both bodies.

    Raises:
        ApplicationError: ``NoticeTemplate`` (non-retryable) when it cannot be rendered.
    """
    rb = default_registry().get(inp.clause, inp.rulebook_version)
    request = NoticeRequest(
        case_id=inp.case_id,
        notice=inp.notice,
        state=inp.state,
        at=inp.at,
        facts=inp.facts,
        deadlines=inp.deadlines,
        owner_email=inp.owner_email,
    )
    try:
        # Checked once per term sheet by the registry, not once per notice.
        rendered = render_notice(rb, default_registry().terms_to_read(inp.terms), request)
    except RenderError as exc:
        raise ApplicationError(
            f"notice {inp.notice} could not be rendered: {exc}",
            type="NoticeTemplate",
            non_retryable=True,
        ) from exc
    return {
        **dataclasses.asdict(rendered),
        "text_sha256": hashlib.sha256(rendered.body_text.encode()).hexdigest(),
        "html_sha256": hashlib.sha256(rendered.body_html.encode()).hexdigest(),
    }


def _utc(at: dt.datetime | None) -> dt.datetime | None:
    return at.replace(tzinfo=dt.UTC) if at is not None and at.tzinfo is None else at


def _claim_for_sending(notice_id: str, seen_status: str, seen_sent_at: dt.datetime | None) -> None:
    """Marks the notice ``sending`` if it is still as this attempt read it.

    An attempt Temporal has timed out may still be running on another worker. Both
    read the row, and without this check both would hand the notice to SendGrid. The
    row is locked (PostgreSQL) or the write is serialized (SQLite), so only the first
    claim finds the row unchanged; the other gets a retryable error and its next
    attempt starts from what the first one did.

    Raises:
        RuntimeError: another attempt changed the notice since this one read it.
    """
    with session_scope() as session:
        stored = session.exec(select(Notice).where(Notice.id == notice_id).with_for_update()).one()
        if stored.status != seen_status or _utc(stored.sent_at) != _utc(seen_sent_at):
            raise RuntimeError(
                f"notice {stored.notice_key} is being handled by another attempt "
                f"(now {stored.status}); asking again"
            )
        stored.status, stored.sent_at = "sending", dt.datetime.now(dt.UTC)
        session.add(stored)


def new_notice_row(inp: SendNoticeInput) -> Notice:
    """The notice row as first written: rendered, and held, outboxed or to be sent.

    Raises:
        ApplicationError: ``NoticeTemplate`` (non-retryable) when it cannot be rendered.
    """
    use_sendgrid = bool(get_settings().sendgrid_api_key)
    rendered = _written(inp)
    if inp.hold_for_approval:
        status = "awaiting_approval"
    else:
        status = "retry" if use_sendgrid else "outboxed"
    return Notice(
        id=notice_id_for(inp.case_id, inp.notice_key),
        case_id=inp.case_id,
        notice_key=inp.notice_key,
        notice=inp.notice,
        clause=inp.clause,
        channel="sendgrid" if use_sendgrid else "outbox",
        status=status,
        due_at=inp.at,
        created_at=inp.at,
        sent_at=inp.at if status == "outboxed" else None,
        **(_deemed_on_sending(inp.terms, inp.at) if status == "outboxed" else {}),
        from_email=get_settings().notice_from_email,
        rule=inp.rule,
        case_state=inp.state,
        **rendered,
    )


def stored_notice(case_id: str, notice_key: str) -> Notice | None:
    with session_scope() as session:
        return session.exec(
            select(Notice).where(Notice.case_id == case_id, Notice.notice_key == notice_key)
        ).first()


@activity.defn
def send_notice(inp: SendNoticeInput) -> SendNoticeResult:
    """Renders and sends one notice, at most once per (case, notice key)."""
    crash_if("before_notice_row")
    notice_id = notice_id_for(inp.case_id, inp.notice_key)
    row = stored_notice(inp.case_id, inp.notice_key)
    if row is not None:
        return carry_on(row, inp)
    row = new_notice_row(inp)
    try:
        with session_scope() as session:
            session.add(row)
    except IntegrityError:
        # Another attempt wrote it first: typically one Temporal already timed out,
        # whose answer nobody will read. Only a notice that has gone out (or is held)
        # may be reported done; otherwise ask again, and the next attempt carries on
        # from the row's state.
        with session_scope() as session:
            other = session.get(Notice, notice_id)
            assert other is not None
            if other.status in ("outboxed", "sent") or (
                other.status == "awaiting_approval" and inp.hold_for_approval
            ):
                return SendNoticeResult(other.id, other.status, other.channel, True)
        raise RuntimeError(
            f"notice {inp.notice_key} was written by another attempt and is "
            f"{other.status}; asking again"
        ) from None
    crash_if("after_notice_row")
    if row.status != "retry":
        return SendNoticeResult(notice_id, row.status, row.channel)
    return _hand_over(row, inp)


def approval_changes(inp: SendNoticeInput) -> dict[str, Any]:
    """A held notice approved: the one that was held (and previewed) is the one that goes
    out, into the outbox at once or marked to be handed to SendGrid."""
    use_sendgrid = bool(get_settings().sendgrid_api_key)
    changes: dict[str, Any] = {
        "approved_by": inp.approved_by,
        "approved_at": inp.at,
        "channel": "sendgrid" if use_sendgrid else "outbox",
        "status": "retry" if use_sendgrid else "outboxed",
    }
    if not use_sendgrid:
        changes |= {"sent_at": inp.at, **_deemed_on_sending(inp.terms, inp.at)}
    return changes


def carry_on(row: Notice, inp: SendNoticeInput) -> SendNoticeResult:
    """Takes a written notice on from its state: held, approved, sent, in doubt, to send.

    ``inp`` says what the case wants now: still held, or approved by someone.
    """
    notice_id = row.id
    if row.status == "awaiting_approval":
        if inp.hold_for_approval:
            return SendNoticeResult(row.id, row.status, row.channel, True)
        changes = approval_changes(inp)
        _set_status(notice_id, **changes)
        if changes["status"] == "outboxed":
            return SendNoticeResult(notice_id, "outboxed", "outbox")
        row.status = "retry"
    if row.status in ("outboxed", "sent"):
        return SendNoticeResult(row.id, row.status, row.channel, True)
    if row.status == "sending":
        message_id = _reconcile(row, inp.notice_key)
        if message_id is not None:
            # SendGrid has it: record what the dead attempt could not; no second email.
            _set_status(
                notice_id,
                status="sent",
                provider_message_id=message_id,
                error=None,
                **_deemed_on_sending(inp.terms, row.sent_at),
            )
            crash_if("after_notice_recorded")
            return SendNoticeResult(notice_id, "sent", "sendgrid")
        # SendGrid never accepted it: send it now.
    if row.status == "failed":
        raise ApplicationError(
            f"notice could not be sent: {row.error}", type="NoticeRejected", non_retryable=True
        )
    # status "retry": SendGrid refused an earlier attempt, so it was not sent; go again.
    return _hand_over(row, inp)


def _hand_over(row: Notice, inp: SendNoticeInput) -> SendNoticeResult:
    """Hands a notice marked ``retry`` to SendGrid, once, and records the answer."""
    notice_id = row.id
    # Committed before the request: from here on a crash leaves the notice "sending",
    # and the next attempt reconciles it with SendGrid before sending again.
    _claim_for_sending(notice_id, row.status, row.sent_at)
    try:
        message_id = sendgrid.send(row, inp.clause)
    except sendgrid.Rejected as exc:
        _set_status(
            notice_id,
            status="retry" if exc.retryable else "failed",
            sent_at=None,
            error=str(exc),
        )
        if exc.retryable:
            raise RuntimeError(str(exc)) from exc
        raise ApplicationError(
            f"notice could not be sent: {exc}", type="NoticeRejected", non_retryable=True
        ) from exc
    crash_if("after_sendgrid_accepted")
    sent_at = dt.datetime.now(dt.UTC)
    _set_status(
        notice_id,
        status="sent",
        provider_message_id=message_id,
        sent_at=sent_at,
        error=None,
        **_deemed_on_sending(inp.terms, sent_at),
    )
    crash_if("after_notice_recorded")
    return SendNoticeResult(notice_id, "sent", "sendgrid")


@activity.defn
def rewrite_held_notice(inp: SendNoticeInput) -> SendNoticeResult:
    """Writes a notice held for approval again, from corrected facts; it stays held.

    Idempotent: the same input writes the same notice. Only a held notice is written
    again; one that went out is evidence and never changes.

    Raises:
        ApplicationError: ``NoticeTemplate`` when the notice cannot be written from the
            facts, ``NoticeNotHeld`` when it is no longer waiting (non-retryable).
    """
    rendered = _written(inp)
    notice_id = notice_id_for(inp.case_id, inp.notice_key)
    with session_scope() as session:
        row = session.get(Notice, notice_id)
        if row is None or row.status != "awaiting_approval":
            raise ApplicationError(
                f"notice {inp.notice_key} is not waiting for approval "
                f"({row.status if row else 'not written'})",
                type="NoticeNotHeld",
                non_retryable=True,
            )
        for key, value in rendered.items():
            setattr(row, key, value)
        session.add(row)
        return SendNoticeResult(notice_id, row.status, row.channel)
