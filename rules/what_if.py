"""A case's first step on paper: which decisions its rules take and which deadlines they
set, from facts that may lie in the future, without starting or writing anything. Pure;
the API and `clauseflow what-if` call it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from contracts.terms import TermSheet
from rules import engine
from rules.calculators import CalculationContext
from rules.deadlines import DeadlineView, compute_deadlines
from rules.derive import derived_facts, parameter_facts, scalars
from rules.rulebook import default_registry
from rules.rulebook.vocabulary import EXPECT_NOTICE
from rules.senders import sender_party, side_facts, sort_decisions


@dataclass
class NoticePlan:
    """A notice the case's first step would give (we send it) or wait for (the other
    party's, expected by a deadline when the contract sets one)."""

    notice: str
    label: str
    rule: str
    #: ``customer`` or ``provider``; ``internal`` for our own people.
    sender: str
    expected_by: str | None = None
    due_at: dt.datetime | None = None


@dataclass
class WhatIf:
    """What a case would decide and which deadlines it would set, without starting it."""

    clause: str
    rulebook_version: int
    state: str
    state_label: str
    decisions: list[engine.Decision]
    deadlines: list[DeadlineView]
    #: Which party runs Clauseflow for the contract.
    our_side: str = "customer"
    #: What we must send, and what we should expect from the other party.
    sends: list[NoticePlan] = field(default_factory=list)
    expects: list[NoticePlan] = field(default_factory=list)


def what_if(terms: TermSheet, clause: str, facts: dict[str, Any], now: dt.datetime) -> WhatIf:
    """Runs a case's first step on paper: the rules' decisions and the deadlines they set.

    ``facts`` are start facts already checked by ``rules.facts.validate_start_facts``.
    Nothing is started and nothing is written.
    """
    rb = default_registry().latest(clause)
    terms = default_registry().complete_terms(terms)
    derived = derived_facts(
        rb,
        CalculationContext(
            terms=terms, facts=dict(facts), recorded=[], deadlines={}, now=now, opened_at=now
        ),
    )
    all_facts = {**facts, **derived}
    seen = parameter_facts(rb, terms) | scalars(all_facts)
    seen.update(side_facts(rb, terms, all_facts))
    seen.update(clause=clause, rulebook_version=rb.version, event="case_started", state="opened")
    decisions = sort_decisions(rb, terms, all_facts, engine.evaluate(seen))
    state = "opened"
    to_set: list[str] = []
    for d in decisions:
        if d.action == "transition":
            state = d.value
        elif d.action == "set_deadlines":
            to_set.extend(d.value)
    deadlines = compute_deadlines(rb, terms, all_facts, to_set) if to_set else []
    label = rb.states[state].label if state in rb.states else state
    due = {d.name: d.due_at for d in deadlines}
    plans: dict[str, list[NoticePlan]] = {"send_notice": [], EXPECT_NOTICE: []}
    for d in decisions:
        if d.action in plans:
            spec = rb.notices[d.value]
            plans[d.action].append(
                NoticePlan(
                    notice=d.value,
                    label=spec.label or d.value.replace("_", " "),
                    rule=d.rule,
                    sender=sender_party(spec, all_facts) or "internal",
                    expected_by=spec.expected_by if d.action == EXPECT_NOTICE else None,
                    due_at=due.get(spec.expected_by or "") if d.action == EXPECT_NOTICE else None,
                )
            )
    return WhatIf(
        clause=clause,
        rulebook_version=rb.version,
        state=state,
        state_label=label,
        decisions=decisions,
        deadlines=sorted(deadlines, key=lambda d: (d.due_at, d.name)),
        our_side=terms.our_side,
        sends=plans["send_notice"],
        expects=plans[EXPECT_NOTICE],
    )
