"""`clauseflow what-if`: the deadlines some facts would set, from the shell."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sys
from typing import Any

from contracts.calendar import describe_deadline
from contracts.terms import TermSheet
from rules.facts import FactsError, validate_start_facts
from rules.rulebook import default_registry
from rules.scenarios import load_scenarios, scenarios_path
from rules.what_if import what_if


def _terms(contract_id: str | None) -> TermSheet:
    if contract_id is None:
        from workers.seed import reference_term_sheet

        return reference_term_sheet()
    from sqlmodel import Session

    from store.contracts import contract_terms
    from store.db import get_engine
    from store.models import Contract

    with Session(get_engine()) as session:
        contract = session.get(Contract, contract_id)
        if contract is None:
            raise SystemExit(f"contract {contract_id!r} not found")
        return contract_terms(contract)


def run(
    clause: str,
    pairs: list[str],
    *,
    contract_id: str | None,
    as_json: bool,
    example: bool = False,
) -> int:
    """Prints what a case of ``clause`` would decide and the deadlines it would set.

    With ``example``, the facts start from the clause's example (the start facts of its
    scenarios.yaml, as of now); NAME=VALUE pairs override them.
    """
    registry = default_registry()
    if clause not in registry.clauses():
        print(f"unknown clause {clause!r}; known: {', '.join(registry.clauses())}", file=sys.stderr)
        return 2
    terms = _terms(contract_id)
    facts: dict[str, Any] = {}
    if example:
        # The clause's own example (its scenarios' start facts), as of now.
        scenarios = load_scenarios(scenarios_path(clause))
        facts = scenarios.start_facts(now=dt.datetime.now(dt.UTC), time_zone=terms.time_zone)
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            print(f"facts are NAME=VALUE; got {pair!r}", file=sys.stderr)
            return 2
        facts[name] = value
    try:
        checked = validate_start_facts(
            registry.latest(clause),
            facts,
            time_zone=terms.time_zone,
            now=None,
            effective_date=terms.effective_date,
        )
    except FactsError as exc:
        for e in exc.errors:
            print(f"{e.field}: {e.message}", file=sys.stderr)
        return 2
    result = what_if(terms, clause, checked, dt.datetime.now(dt.UTC))
    if as_json:
        print(json.dumps(dataclasses.asdict(result), default=str, indent=2))
        return 0
    print(f"{result.clause} (rulebook v{result.rulebook_version}): {result.state_label}")
    for d in result.deadlines:
        print(f"\n{d.label}: {describe_deadline(d.due_at, d.last_day, terms.time_zone)}")
        for line in d.explanation:
            print(f"  - {line}")
    # Whose notice: what we send (as the contract's our_side), what the other party owes.
    if result.sends:
        print(f"\nWe send (as the {result.our_side}):")
        for p in result.sends:
            print(
                f"  - {p.label} ({'internal' if p.sender == 'internal' else 'to the other party'})"
            )
    if result.expects:
        print("\nWe expect from the other party (never sent by us):")
        last_days = {d.name: d.last_day for d in result.deadlines}
        for p in result.expects:
            when = p.due_at and describe_deadline(
                p.due_at, last_days.get(p.expected_by or ""), terms.time_zone
            )
            due = f", due by {when}" if when else ""
            print(f"  - {p.label} (the {p.sender}'s){due}")
    return 0
