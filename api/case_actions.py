"""Operator actions on a case, shared by the REST API and the console.

Every action that changes a case is an update of its workflow: the workflow's
validator decides whether it may happen (and says why not), the workflow carries it
out (moving a timer, closing the case) and its ``record_step`` activity writes the
audit entry with who, when, why, before and after. Nothing here writes the store
behind Temporal's back, except notes, which change no case state.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any, Literal, cast

from fastapi import HTTPException
from fastapi.concurrency import run_in_threadpool
from sqlmodel import Session
from temporalio.client import (
    Client,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.service import RPCError, RPCStatusCode

from api.access import Principal
from rules.facts import validate_recorded_fact
from rules.rulebook import default_registry
from store.contracts import time_zone_of
from store.db import get_engine
from store.models import AuditEntry, Case, Contract, Escalation
from workflows.messages import (
    AmendDeadlineRequest,
    ApproveNoticeRequest,
    CaseUpdate,
    CaseView,
    CloseCaseRequest,
    DecideAmendmentRequest,
    ReassignOwnerRequest,
    RecordFactRequest,
    ResolveEscalationRequest,
    RetryNowRequest,
    ReviseHeldNoticeRequest,
)

#: How long an action waits for the case's worker to carry it out.
ACTION_WAIT = dt.timedelta(seconds=20)


class ActionRefused(HTTPException):
    """The case refused the action (or does not exist); the message says why."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(status, message)
        self.message = message


def _reason(reason: str | None, what: str = "reason") -> str:
    text = (reason or "").strip()
    if not text:
        raise ActionRefused(f"{what} is required: say why, for the audit trail", 422)
    return text


def _load_case(case_id: str) -> tuple[Case | None, str]:
    with Session(get_engine()) as s:
        case = s.get(Case, case_id)
        return case, (time_zone_of(s, case.contract_id) if case else "UTC")


def _effective_date(contract_id: str) -> dt.date | None:
    with Session(get_engine()) as s:
        contract = s.get(Contract, contract_id)
        return contract.effective_date if contract else None


async def _case(case_id: str) -> tuple[Case, str]:
    case, zone = await run_in_threadpool(_load_case, case_id)
    if case is None:
        raise ActionRefused(f"case {case_id!r} not found", 404)
    return case, zone


async def _update(client: Client, case_id: str, update: CaseUpdate, request: Any) -> CaseView:
    """Runs one update of the case's workflow and maps its failures to clear answers."""
    handle = client.get_workflow_handle(case_id)
    try:
        return cast(
            CaseView,
            await asyncio.wait_for(
                handle.execute_update(update, request, result_type=CaseView),
                timeout=ACTION_WAIT.total_seconds(),
            ),
        )
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError) as exc:
        raise ActionRefused(
            f"case {case_id} did not answer within {ACTION_WAIT.total_seconds():.0f} s; the "
            "action may still be carried out when its worker catches up: check the case "
            "before repeating it",
            504,
        ) from exc
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        raise ActionRefused(getattr(cause, "message", None) or str(exc)) from exc
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise ActionRefused(f"case {case_id} is no longer running") from exc
        raise ActionRefused(f"Temporal refused the action: {exc.message}", 503) from exc


async def retry_now(client: Client, case_id: str, actor: Principal, reason: str) -> CaseView:
    """Retries the case's failing activity now instead of after Temporal's backoff."""
    await _case(case_id)
    request = RetryNowRequest(actor=actor.name, reason=_reason(reason))
    return await _update(client, case_id, CaseUpdate.RETRY_NOW, request)


def _escalation(case_id: str, escalation_id: int) -> Escalation | None:
    with Session(get_engine()) as s:
        row = s.get(Escalation, escalation_id)
        return row if row is not None and row.case_id == case_id else None


async def resolve_escalation(
    client: Client, case_id: str, escalation_id: int, actor: Principal, note: str
) -> CaseView:
    """Marks one of the case's escalations resolved, with the operator's note."""
    await _case(case_id)
    row = await run_in_threadpool(_escalation, case_id, escalation_id)
    if row is None:
        raise ActionRefused(f"case {case_id} has no escalation {escalation_id}", 404)
    if row.resolved_at is not None:
        raise ActionRefused(
            f"escalation {escalation_id} was already resolved by {row.resolved_by or 'someone'}"
        )
    request = ResolveEscalationRequest(
        step=row.step, rule=row.rule, note=_reason(note, "note"), actor=actor.name
    )
    return await _update(client, case_id, CaseUpdate.RESOLVE_ESCALATION, request)


def recorded_by(actor: Principal, on_behalf_of: str | None) -> str:
    """Who the audit trail names: the caller, and whom they act for when that differs."""
    if on_behalf_of and on_behalf_of.strip() and on_behalf_of.strip() != actor.name:
        return f"{actor.name} for {on_behalf_of.strip()}"
    return actor.name


async def record_fact(
    client: Client,
    case_id: str,
    actor: Principal,
    fact: str,
    values: dict[str, Any],
    reason: str | None,
    on_behalf_of: str | None = None,
) -> CaseView:
    """Records a fact (breach cured, payment received, ...): the rules decide what follows.

    Raises:
        FactsError: the values do not fit the rulebook's fields (422, field by field).
        ActionRefused: unknown or closed case, or the workflow's validator refused.
    """
    case, zone = await _case(case_id)
    if case.closed:
        raise ActionRefused(f"case {case_id} is closed ({case.state}); no facts can be recorded")
    rulebook = default_registry().get(case.clause, case.rulebook_version)
    checked = validate_recorded_fact(
        rulebook,
        fact,
        values,
        state=case.state,
        time_zone=zone,
        now=dt.datetime.now(dt.UTC),
        effective_date=await run_in_threadpool(_effective_date, case.contract_id),
        case_facts=case.facts,
    )
    request = RecordFactRequest(
        fact, checked, recorded_by(actor, on_behalf_of), (reason or "").strip() or None
    )
    return await _update(client, case_id, CaseUpdate.RECORD_FACT, request)


async def propose_amendment(
    client: Client,
    case_id: str,
    actor: Principal,
    deadline: str,
    due_at: dt.datetime,
    reason: str,
    second_approver_required: bool = True,
) -> str:
    """Asks to move a deadline; returns the amendment's id (``amd-<step>``).

    With ``second_approver_required`` the deadline moves only when another person
    approves (:func:`decide_amendment`); without it, at once.
    """
    await _case(case_id)
    if due_at.tzinfo is None:
        raise ActionRefused(
            "due_at must include a time zone offset, e.g. 2027-03-01T23:59-05:00", 422
        )
    request = AmendDeadlineRequest(
        deadline=deadline,
        due_at=due_at.astimezone(dt.UTC),
        reason=_reason(reason),
        actor=actor.name,
        second_approver_required=second_approver_required,
        person=actor.person,
    )
    view = await _update(client, case_id, CaseUpdate.AMEND_DEADLINE, request)
    return view.amendment_id or ""


async def decide_amendment(
    client: Client,
    case_id: str,
    actor: Principal,
    amendment_id: str,
    approve: bool,
    reason: str,
) -> CaseView:
    """Approves (the deadline moves) or rejects a proposed deadline amendment.

    The approver must be another person than the proposer (the workflow compares the
    persons behind the credentials), so a token with no user, which names no person,
    may reject but never approve.
    """
    if approve and actor.acts_as_user is None:
        raise ActionRefused(
            f"{actor.name} is a token with no user, so it names no person: it cannot be the "
            "second person who approves an amendment; approve in the console, or with a "
            "token made for your user (user_id)",
            403,
        )
    await _case(case_id)
    request = DecideAmendmentRequest(
        amendment_id=amendment_id,
        approve=approve,
        actor=actor.name,
        reason=_reason(reason),
        person=actor.person,
    )
    return await _update(client, case_id, CaseUpdate.DECIDE_AMENDMENT, request)


async def close_case(
    client: Client,
    case_id: str,
    actor: Principal,
    outcome: Literal["withdrawn", "cancelled"],
    reason: str,
) -> CaseView:
    """Withdraws or cancels a case: its deadlines stop and nothing more is sent."""
    await _case(case_id)
    if outcome not in ("withdrawn", "cancelled"):
        raise ActionRefused("outcome must be withdrawn or cancelled", 422)
    request = CloseCaseRequest(outcome=outcome, actor=actor.name, reason=_reason(reason))
    return await _update(client, case_id, CaseUpdate.CLOSE_CASE, request)


async def reassign_owner(
    client: Client, case_id: str, actor: Principal, owner_email: str, reason: str
) -> CaseView:
    """Hands the case to another owner: later reminders go to them."""
    await _case(case_id)
    email = owner_email.strip()
    if "@" not in email or " " in email or len(email) > 320:
        raise ActionRefused(f"owner_email {owner_email!r} is not an email address", 422)
    request = ReassignOwnerRequest(owner_email=email, actor=actor.name, reason=_reason(reason))
    return await _update(client, case_id, CaseUpdate.REASSIGN_OWNER, request)


async def approve_notice(
    client: Client,
    case_id: str,
    actor: Principal,
    notice_key: str,
    on_behalf_of: str | None,
    reason: str | None,
) -> CaseView:
    """Releases a notice the rulebook held for approval: it goes out as previewed."""
    await _case(case_id)
    request = ApproveNoticeRequest(notice_key, recorded_by(actor, on_behalf_of), reason)
    return await _update(client, case_id, CaseUpdate.APPROVE_NOTICE, request)


async def revise_held_notice(
    client: Client,
    case_id: str,
    actor: Principal,
    notice_key: str,
    values: dict[str, str],
    reason: str | None,
) -> CaseView:
    """Corrects the facts a held notice was written from; it is written again, still held.

    Only the values that differ from the case's facts are sent (and audited).
    """
    case, _ = await _case(case_id)
    if not values:
        raise ActionRefused("values must name at least one fact to correct", 422)
    values = {k: v for k, v in values.items() if v != (case.facts or {}).get(k)}
    if not values:
        raise ActionRefused("Change at least one value: the notice would read the same", 422)
    request = ReviseHeldNoticeRequest(notice_key, values, actor.name, _reason(reason))
    return await _update(client, case_id, CaseUpdate.REVISE_HELD_NOTICE, request)


def add_note(session: Session, case_id: str, actor: Principal, note: str) -> AuditEntry:
    """Adds an operator's note to the case's timeline (no case state changes)."""
    case = session.get(Case, case_id)
    if case is None:
        raise ActionRefused(f"case {case_id!r} not found", 404)
    entry = AuditEntry(
        at=dt.datetime.now(dt.UTC),
        actor=actor.name,
        action="note",
        contract_id=case.contract_id,
        case_id=case_id,
        reason=_reason(note, "note"),
    )
    session.add(entry)
    session.commit()
    session.refresh(entry)
    return entry
