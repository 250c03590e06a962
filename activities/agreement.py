"""The contract workflow's side effects: the agreement's legal state written on its row,
and the open cases its end reaches, each with what it does about it.

Both are idempotent: the state carries the contract workflow's step, and a step already
written is not written again; the cases are read, never changed, here.
"""

from __future__ import annotations

import json
import uuid

from sqlmodel import select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.records import CLAUSEFLOW
from activities.types import (
    AgreementEndInput,
    CaseConsequence,
    CaseEventInput,
    OpenCaseInput,
    OpenedCase,
    RecordAgreementInput,
    local_date,
)
from rules.agreement import reaction_to, reaction_to_end, surviving_sections
from rules.facts import FactsError, validate_start_facts
from rules.rulebook import ParameterError, default_registry
from store.cases import OPENING_LABEL, OPENING_STATE, write_opening_row
from store.contracts import contract_terms
from store.db import session_scope
from store.models import AuditEntry, Case, Contract


@activity.defn
def record_agreement(inp: RecordAgreementInput) -> None:
    """Writes the agreement's legal state on the contract row, with an audit entry."""
    with session_scope() as session:
        contract = session.get(Contract, inp.contract_id, with_for_update=True)
        if contract is None or contract.agreement_step >= inp.step:
            return  # not registered here (a test's), or this step is written already
        before = {"legal_state": contract.legal_state, "end_route": contract.end_route}
        contract.legal_state = inp.legal_state
        contract.end_route = inp.route
        contract.ends_at = inp.ends_at
        contract.ended_by_case = inp.by_case
        contract.agreement_step = inp.step
        session.add(
            AuditEntry(
                at=activity.info().current_attempt_scheduled_time,
                actor=CLAUSEFLOW,
                action=inp.action,
                contract_id=inp.contract_id,
                case_id=inp.case_id or inp.by_case,
                reason=inp.reason,
                before=before,
                after={
                    "legal_state": inp.legal_state,
                    "end_route": inp.route,
                    "ends_at": inp.ends_at.isoformat() if inp.ends_at else None,
                },
                idempotency_key=f"agreement:{inp.contract_id}:{inp.step}",
            )
        )


@activity.defn
def consequences_of_end(inp: AgreementEndInput) -> list[CaseConsequence]:
    """Every open case of the contract, other than the one that ended it, with what its
    rulebook says it does at the end: close (its sections do not survive) or carry on."""
    registry = default_registry()
    with session_scope() as session:
        contract = session.get(Contract, inp.contract_id)
        if contract is None:
            return []
        surviving = surviving_sections(contract.terms)
        ends_on = local_date(inp.ends_at, contract.time_zone)
    out = []
    for case_id, clause, version in _open_cases(inp.contract_id):
        if case_id == inp.by_case:
            continue
        rb = registry.get(clause, version)
        r = reaction_to_end(rb, surviving, ends_on, inp.route, inp.ends_at)
        out.append(CaseConsequence(case_id, clause, r.action, r.reason, r.record, r.values))
    return out


@activity.defn
def consequences_of_event(inp: CaseEventInput) -> list[CaseConsequence]:
    """Every open case of the contract, other than the one that emitted the event, whose
    rulebook records a fact when it comes (``agreement.reacts``), with that fact; and
    every case a clause opens on it (``agreement.opens``), or offers to a person."""
    registry = default_registry()
    out = _openings(inp)
    for case_id, clause, version in _open_cases(inp.contract_id):
        reaction = reaction_to(registry.get(clause, version), inp.event)
        if case_id == inp.case_id or reaction is None:
            continue
        values = {**inp.values, **{k: inp.values.get(v) for k, v in reaction.values.items()}}
        why = f"{inp.event} in case {inp.case_id}: this case records {reaction.record}"
        out.append(CaseConsequence(case_id, clause, "record", why, reaction.record, values))
    return out


def _open_cases(contract_id: str) -> list[tuple[str, str, int]]:
    with session_scope() as session:
        rows = session.exec(
            select(Case.id, Case.clause, Case.rulebook_version)
            .where(Case.contract_id == contract_id, Case.closed == False)  # noqa: E712
            .order_by(Case.id)
        ).all()
    return [(r[0], r[1], r[2]) for r in rows]


def _openings(inp: CaseEventInput) -> list[CaseConsequence]:
    """The cases the event opens: each clause's newest rulebook that ``opens`` on it, its
    start facts written from the event. The case id comes from the event, so the same
    event told again opens the same case. Offered instead (the term sheet says a person
    confirms): the consequence names the case that emitted, to escalate there."""
    registry = default_registry()
    out = []
    with session_scope() as session:
        contract = session.get(Contract, inp.contract_id)
        terms = contract.terms if contract else None
    for clause in registry.clauses():
        rb = registry.latest(clause)
        opening = rb.agreement.opens.get(inp.event)
        if opening is None or terms is None:
            continue
        told = {k: "" if v is None else v for k, v in inp.values.items()}
        # To the second, as a notice's receipt is recorded.
        at = inp.at or activity.info().current_attempt_scheduled_time
        told["event_at"] = at.replace(microsecond=0).isoformat()
        facts = {name: text.format(**told) for name, text in opening.facts.items()}
        key = json.dumps([inp.event, inp.case_id, inp.values], sort_keys=True, default=str)
        case_id = (
            "case_" + uuid.uuid5(uuid.NAMESPACE_URL, f"clauseflow:{inp.contract_id}:{key}").hex
        )
        flag = opening.only_if
        try:
            opens = not flag or bool(rb.parameter_values(registry.terms_to_read(terms))[flag])
        except (ValueError, ParameterError) as exc:  # a stored term sheet that no longer fits
            raise ApplicationError(f"{clause}: {exc}", non_retryable=True) from exc
        if not opens:
            why = (
                f"{inp.event} in this case: a {rb.title} case ({rb.section}) is offered, not "
                f"opened (the term sheet's {flag} is no). To open it, start a {clause} case "
                "with these facts: " + "; ".join(f"{k} = {v}" for k, v in facts.items())
            )
            out.append(CaseConsequence(inp.case_id, clause, "offer", why, None, facts))
            continue
        why = f"{inp.event} in case {inp.case_id}: {rb.title} ({rb.section}) opens"
        out.append(CaseConsequence(case_id, clause, "open", why, None, facts))
    return out


@activity.defn
def open_case_for_contract(inp: OpenCaseInput) -> OpenedCase:
    """Writes the row of a case the contract opens (as the API writes one before its
    workflow starts), its facts checked as the API checks them; the same case again
    finds its row.

    Raises:
        ApplicationError: The facts do not fit the clause (non-retryable: the contract
            lists the case as not opened, with why).
    """
    registry = default_registry()
    rb = registry.latest(inp.clause)
    with session_scope() as session:
        contract = session.get(Contract, inp.contract_id)
        if contract is None:
            raise ApplicationError(
                f"contract {inp.contract_id} is not registered", non_retryable=True
            )
        terms = contract_terms(contract)
    try:
        facts = validate_start_facts(
            rb,
            inp.facts,
            time_zone=terms.time_zone,
            now=activity.info().current_attempt_scheduled_time,
            effective_date=terms.effective_date,
        )
    except FactsError as exc:
        raise ApplicationError(f"{inp.clause}: {exc}", non_retryable=True) from exc
    now = activity.info().current_attempt_scheduled_time
    write_opening_row(
        Case(
            id=inp.case_id,
            contract_id=inp.contract_id,
            clause=rb.clause,
            rulebook_version=rb.version,
            state=OPENING_STATE,
            state_label=OPENING_LABEL,
            closed=False,
            owner_email=terms.owner.email,
            facts=facts,
            opened_at=now,
            updated_at=now,
            last_step=0,
        )
    )
    return OpenedCase(
        inp.case_id, rb.clause, rb.version, terms.model_dump(mode="json"), facts, terms.owner.email
    )
