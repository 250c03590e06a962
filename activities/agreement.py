"""The contract workflow's side effects: the agreement's legal state written on its row,
and the open cases its end reaches, each with what it does about it.

Both are idempotent: the state carries the contract workflow's step, and a step already
written is not written again; the cases are read, never changed, here.
"""

from __future__ import annotations

from sqlmodel import select
from temporalio import activity

from activities.records import CLAUSEFLOW
from activities.types import (
    AgreementEndInput,
    CaseConsequence,
    CaseEventInput,
    RecordAgreementInput,
    local_date,
)
from rules.agreement import reaction_to, reaction_to_end, surviving_sections
from rules.rulebook import default_registry
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
        r = reaction_to_end(registry.get(clause, version), surviving, ends_on, inp.route)
        out.append(CaseConsequence(case_id, clause, r.action, r.reason, r.record, r.values))
    return out


@activity.defn
def consequences_of_event(inp: CaseEventInput) -> list[CaseConsequence]:
    """Every open case of the contract, other than the one that emitted the event, whose
    rulebook records a fact when it comes (``agreement.reacts``), with that fact."""
    registry = default_registry()
    out = []
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
