"""What-if (``POST /api/contracts/{id}/what-if`` and the console's form): the deadlines
and notices a clause's facts would give, worked out without starting a case."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import HTTPException
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from api.errors import unknown_clause
from api.schemas import DeadlinePublic
from contracts.calendar import describe_deadline
from rules.facts import validate_start_facts
from rules.rulebook import default_registry
from rules.what_if import NoticePlan
from rules.what_if import what_if as run_what_if
from store.contracts import contract_terms
from store.models import Contract


class WhatIfRequest(BaseModel):
    """The clause and the facts to try, e.g. a notice you are about to send."""

    model_config = ConfigDict(extra="forbid")

    clause: str = Field(examples=["termination_for_convenience"])
    facts: dict[str, Any] = Field(
        examples=[{"notice_received_at": "2026-12-01T10:00:00-05:00", "given_by": "customer"}]
    )


class DecisionPublic(BaseModel):
    rule: str
    action: str
    value: Any


class NoticePlanPublic(BaseModel):
    """A notice the case would give, or would wait for from the other party."""

    notice: str
    label: str
    rule: str
    sender: str = Field(description="customer, provider or internal (our own people)")
    expected_by: str | None = Field(
        default=None, description="The deadline by which the other party's notice is due"
    )
    due_at: dt.datetime | None = None
    due_text: str | None = Field(
        default=None,
        description="When, as people read it: the end of its last day for an end-of-day "
        "deadline (as a deadline's due_text)",
    )


class WhatIfPublic(BaseModel):
    clause: str
    rulebook_version: int
    state: str
    state_label: str
    deadlines: list[DeadlinePublic]
    decisions: list[DecisionPublic]
    our_side: str | None = Field(
        default=None, description="Which party runs Clauseflow for the contract"
    )
    we_send: list[NoticePlanPublic] = Field(
        default_factory=list, description="Notices we must send (ours, and internal ones)"
    )
    we_expect: list[NoticePlanPublic] = Field(
        default_factory=list,
        description="The other party's notices the case waits for; never sent by us",
    )


def ask_what_if(session: Session, contract_id: str, body: WhatIfRequest) -> WhatIfPublic:
    """The answer for the contract's term sheet; facts may lie in the future here.

    Raises:
        HTTPException: 404 for an unknown contract, 422 for an unknown clause.
        FactsError: The facts do not fit the clause, each named.
    """
    contract = session.get(Contract, contract_id)
    if contract is None:
        raise HTTPException(404, f"contract {contract_id!r} not found")
    if body.clause not in default_registry().clauses():
        raise unknown_clause(body.clause)
    terms = contract_terms(contract)
    rulebook = default_registry().latest(body.clause)
    facts = validate_start_facts(
        rulebook,
        body.facts,
        time_zone=terms.time_zone,
        now=None,
        effective_date=terms.effective_date,
    )
    result = run_what_if(terms, body.clause, facts, dt.datetime.now(dt.UTC))
    last_days = {d.name: d.last_day for d in result.deadlines}

    def plan(p: NoticePlan) -> NoticePlanPublic:
        out = NoticePlanPublic.model_validate(p, from_attributes=True)
        if p.due_at is not None:
            last_day = last_days.get(p.expected_by or "")
            out.due_text = describe_deadline(p.due_at, last_day, terms.time_zone)
        return out

    return WhatIfPublic(
        clause=result.clause,
        rulebook_version=result.rulebook_version,
        state=result.state,
        state_label=result.state_label,
        deadlines=[DeadlinePublic.of(d, terms.time_zone) for d in result.deadlines],
        decisions=[
            DecisionPublic(rule=d.rule, action=d.action, value=d.value) for d in result.decisions
        ],
        our_side=result.our_side,
        we_send=[plan(p) for p in result.sends],
        we_expect=[plan(p) for p in result.expects],
    )
