"""Renders notices and sends each one exactly once: to SendGrid, or to the local outbox.

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

import datetime as dt
import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.faults import crash_if
from activities.types import DeadlineView, SendNoticeInput, SendNoticeResult
from contracts.calendar import describe_day, describe_instant
from contracts.terms import TermSheet, other_party
from rules.rulebook import Rulebook, default_registry
from runtime.settings import get_settings
from store.db import session_scope
from store.models import Notice

#: Layouts shared by every clause's notices (header, footer).
_LAYOUTS = Path(__file__).resolve().parents[1] / "rules" / "notice_layouts"


@lru_cache(maxsize=64)
def _environment(folder: Path, html: bool) -> jinja2.Environment:
    # StrictUndefined: a template that names a missing value fails loudly instead of
    # sending a notice with a blank where a date should be.
    return jinja2.Environment(
        loader=jinja2.ChoiceLoader(
            [jinja2.FileSystemLoader(str(folder)), jinja2.FileSystemLoader(str(_LAYOUTS))]
        ),
        undefined=jinja2.StrictUndefined,
        autoescape=html,
        keep_trailing_newline=True,
    )


def notice_id_for(case_id: str, notice_key: str) -> str:
    """A stable id for a notice, the same on every attempt."""
    return "ntc_" + hashlib.sha256(f"{case_id}\x00{notice_key}".encode()).hexdigest()[:24]


def _deadline_context(d: DeadlineView, zone: str) -> dict[str, Any]:
    return {
        "name": d.name,
        "label": d.label,
        "due_at": d.due_at,
        "local_due_text": describe_instant(d.due_at, zone),
        "local_date_text": describe_day(d.last_day)
        if d.last_day
        else describe_instant(d.due_at, zone),
        "last_day": d.last_day,
        "explanation": d.explanation,
        "status": d.status,
    }


def _recipients(
    roles: list[str], terms: TermSheet, facts: dict[str, Any], owner_email: str | None = None
) -> list[str]:
    out: list[str] = []
    for role in roles:
        if role == "owner":
            # The case's current owner (an operator may have reassigned it).
            emails = [owner_email or terms.owner.email]
        else:
            if role == "notifying_party":
                party = terms.party(facts["given_by"])
            elif role == "receiving_party":
                party = terms.party(other_party(facts["given_by"]))
            elif role in ("customer", "provider"):
                party = terms.party(role)  # type: ignore[arg-type]
            else:
                raise ApplicationError(f"unknown recipient role {role!r}", non_retryable=True)
            emails = [party.notice_email, *party.copy_to]
        out.extend(e for e in emails if e not in out)
    return out


def render_notice(rb: Rulebook, inp: SendNoticeInput, terms: TermSheet) -> dict[str, Any]:
    """Renders a notice's subject, plain text and HTML, and resolves its recipients."""
    spec = rb.notices[inp.notice]
    zone = terms.time_zone
    # Optional facts (and fields of facts not recorded yet) are named, as empty values.
    declared = [*rb.facts, *(f for rf in rb.recordable_facts.values() for f in rf.fields)]
    facts = dict.fromkeys(declared) | dict(inp.facts)
    given_by = facts.get("given_by")
    context = {
        "contract": terms.model_dump(mode="json"),
        "terms": terms,
        "case": {
            "id": inp.case_id,
            "clause": rb.clause,
            "title": rb.title,
            "section": rb.section,
            "state": inp.state,
            "state_label": rb.states[inp.state].label if inp.state in rb.states else inp.state,
        },
        "facts": facts,
        "deadlines": {k: _deadline_context(v, zone) for k, v in inp.deadlines.items()},
        "customer": terms.customer,
        "provider": terms.provider,
        "owner": terms.owner,
        "notifying_party": terms.party(given_by) if given_by else None,
        "receiving_party": terms.party(other_party(given_by)) if given_by else None,
        "sent_on_text": describe_instant(inp.at, zone),
        "describe_instant": lambda v: describe_instant(
            v if isinstance(v, dt.datetime) else dt.datetime.fromisoformat(str(v)), zone
        ),
        "zone": ZoneInfo(zone),
    }
    folder = rb.folder / "notices"
    subject = _environment(folder, False).from_string(spec.subject).render(context).strip()
    text = _environment(folder, False).get_template(f"{inp.notice}.txt.j2").render(context)
    html = _environment(folder, True).get_template(f"{inp.notice}.html.j2").render(context)
    return {
        "subject": subject,
        "body_text": text,
        "body_html": html,
        "to": _recipients(spec.to, terms, facts, inp.owner_email),
        "cc": _recipients(spec.copy_, terms, facts, inp.owner_email),
    }


class _Rejected(Exception):
    """SendGrid answered and refused the message; it was not sent."""

    def __init__(self, message: str, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class _Unknown(Exception):
    """SendGrid's Email Activity API cannot tell whether a message was accepted."""


def _client() -> Any:
    import sendgrid

    settings = get_settings()
    client = sendgrid.SendGridAPIClient(
        api_key=settings.sendgrid_api_key, host=settings.sendgrid_host
    )
    client.client.timeout = get_settings().sendgrid_timeout_seconds
    return client


def _http_error_text(exc: Exception) -> tuple[int | None, str]:
    status = getattr(exc, "status_code", None)
    body = getattr(exc, "body", b"")
    text = body.decode(errors="replace") if isinstance(body, bytes) else str(body)
    return status, text[:500]


def _send_with_sendgrid(notice: Notice, clause: str) -> str | None:
    """Sends through SendGrid's v3 Mail Send API; returns the X-Message-Id.

    Raises:
        _Rejected: SendGrid answered with an error (or could not be reached), so the
            message was not accepted.
        Exception: anything else (a timeout, a dropped connection) leaves the outcome
            unknown.
    """
    import urllib.error

    from python_http_client.exceptions import HTTPError
    from sendgrid.helpers.mail import Category, Cc, CustomArg, Mail, To

    settings = get_settings()
    mail = Mail(
        from_email=(settings.notice_from_email, settings.notice_from_name),
        to_emails=[To(e) for e in notice.to],
        subject=notice.subject,
        plain_text_content=notice.body_text,
        html_content=notice.body_html,
    )
    for e in notice.cc:
        if e not in notice.to:
            mail.add_cc(Cc(e))
    # On the personalization: SendGrid's spec types the message-level custom_args as a
    # string, the personalization's as an object; events carry them either way.
    mail.add_custom_arg(CustomArg("case_id", notice.case_id, p=0))
    mail.add_custom_arg(CustomArg("notice_id", notice.id, p=0))
    mail.add_category(Category(clause))
    try:
        response = _client().send(mail)
    except HTTPError as exc:
        status, text = _http_error_text(exc)
        # 400/401/403/413 will fail the same way again; 429 and 5xx are worth a retry.
        raise _Rejected(
            f"SendGrid answered {status}: {text}",
            retryable=status not in (400, 401, 403, 413),
        ) from exc
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, ConnectionRefusedError):
            raise _Rejected(f"SendGrid unreachable: {exc.reason}", retryable=True) from exc
        raise
    headers = {k.lower(): v for k, v in dict(response.headers).items()}
    return headers.get("x-message-id")


def _accepted_message_ids(notice_id: str) -> list[str]:
    """Asks SendGrid's Email Activity API for the messages carrying this notice id.

    Returns:
        The X-Message-Ids of the accepted messages (empty: SendGrid accepted none yet).

    Raises:
        _Unknown: the API cannot answer (no Email Activity add-on, not found, 5xx,
            unreachable).
        RuntimeError: rate limited (429); worth asking again later.
    """
    from python_http_client.exceptions import HTTPError

    query = f"unique_args['notice_id']=\"{notice_id}\""
    try:
        response = _client().client.messages.get(query_params={"query": query, "limit": 10})
    except HTTPError as exc:
        status, text = _http_error_text(exc)
        if status == 429:
            raise RuntimeError(f"SendGrid's Email Activity API answered 429: {text}") from exc
        raise _Unknown(f"SendGrid's Email Activity API answered {status}: {text}") from exc
    except OSError as exc:  # URLError, timeouts, refused connections
        raise _Unknown(f"SendGrid's Email Activity API is unreachable: {exc}") from exc
    try:
        messages = json.loads(response.body)["messages"]
        # Activity reports "<X-Message-Id>.<SendGrid's suffix>"; keep the X-Message-Id.
        return [str(m["msg_id"]).split(".", 1)[0] for m in messages]
    except (ValueError, KeyError, TypeError) as exc:
        raise _Unknown(f"SendGrid's Email Activity API answered {response.body!r:.200}") from exc


def _reconcile(row: Notice, notice_key: str) -> str | None:
    """Settles a notice left ``sending``: its message id if SendGrid accepted it, else None.

    None means SendGrid definitely did not accept it, so it may be sent.
    """
    try:
        found = _accepted_message_ids(row.id)
    except _Unknown as exc:
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
    try:
        rendered = render_notice(rb, inp, TermSheet.model_validate(inp.terms))
    except jinja2.TemplateError as exc:
        raise ApplicationError(
            f"notice {inp.notice} could not be rendered: {exc}",
            type="NoticeTemplate",
            non_retryable=True,
        ) from exc
    return {
        **rendered,
        "text_sha256": hashlib.sha256(rendered["body_text"].encode()).hexdigest(),
        "html_sha256": hashlib.sha256(rendered["body_html"].encode()).hexdigest(),
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


@activity.defn
def send_notice(inp: SendNoticeInput) -> SendNoticeResult:
    """Renders and sends one notice, at most once per (case, notice key)."""
    crash_if("before_notice_row")
    notice_id = notice_id_for(inp.case_id, inp.notice_key)
    use_sendgrid = bool(get_settings().sendgrid_api_key)
    with session_scope() as session:
        row = session.exec(
            select(Notice).where(Notice.case_id == inp.case_id, Notice.notice_key == inp.notice_key)
        ).first()
    if row is not None:
        if row.status == "awaiting_approval":
            if inp.hold_for_approval:
                return SendNoticeResult(row.id, row.status, row.channel, True)
            # Approved: the notice that was held (and previewed) is the one that goes out.
            changes: dict[str, Any] = {
                "approved_by": inp.approved_by,
                "approved_at": inp.at,
                "channel": "sendgrid" if use_sendgrid else "outbox",
            }
            if not use_sendgrid:
                changes |= _deemed_on_sending(inp.terms, inp.at)
                _set_status(notice_id, status="outboxed", sent_at=inp.at, **changes)
                return SendNoticeResult(notice_id, "outboxed", "outbox")
            _set_status(notice_id, status="retry", **changes)
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
    else:
        rendered = _written(inp)
        if inp.hold_for_approval:
            status = "awaiting_approval"
        else:
            status = "retry" if use_sendgrid else "outboxed"
        row = Notice(
            id=notice_id,
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
        if status != "retry":
            return SendNoticeResult(notice_id, status, row.channel)

    # Committed before the request: from here on a crash leaves the notice "sending",
    # and the next attempt reconciles it with SendGrid before sending again.
    _claim_for_sending(notice_id, row.status, row.sent_at)
    try:
        message_id = _send_with_sendgrid(row, inp.clause)
    except _Rejected as exc:
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
