"""The case table: the clauses' scenario paths that happen now (no fixed ``at``), each
dated so that its case reaches its end within seconds, with the facts to record on the
way and the state it must end in (``rules/clauses/<clause>/scenarios.yaml``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from rules.rulebook import default_registry
from rules.scenarios import (
    CasePath,
    load_scenarios,
    resolve_facts,
    scenarios_path,
)
from rules.scenarios import (
    Step as PathStep,
)


@dataclass
class Step:
    """Record ``fact`` once the case is in ``when``."""

    when: str
    fact: str
    values: dict[str, Any]


@dataclass
class Scenario:
    name: str
    clause: str
    facts: dict[str, Any]
    steps: list[Step] = field(default_factory=list)
    approve_held: bool = False
    #: The state the case must be in at the end, and whether it is closed then.
    end_state: str = ""
    closed: bool = True
    #: The rulebook version its scenarios describe, and the side we are in it.
    version: int = 1
    our_side: str = "customer"


def scenarios(now: dt.datetime, time_zone: str) -> list[Scenario]:
    """One or two ways through every clause, each ending within seconds.

    Args:
        now: The clock the paths' relative dates resolve against.
        time_zone: The contract's zone (``today``, ``@HH:MM``).
    """
    plan = []
    for clause in default_registry().clauses():
        for case in load_scenarios(scenarios_path(clause)).paths:
            # A path at a fixed moment is the history recorder's: its clock moves.
            if case.at is None:
                plan.append(_scenario(clause, case, now, time_zone))
                plan[-1].version = load_scenarios(scenarios_path(clause)).rulebook_version
    return plan


def _scenario(clause: str, case: CasePath, now: dt.datetime, time_zone: str) -> Scenario:
    def resolved(facts: dict[str, Any]) -> dict[str, Any]:
        return resolve_facts(facts, now=now, time_zone=time_zone)

    steps = []
    for step in case.steps:
        # The driver records facts; other steps need a clock that moves or an operator.
        if not isinstance(step, PathStep):
            raise ValueError(f"{clause}: path {case.name!r} has a step the chaos run cannot take")
        steps.append(Step(step.in_state, step.fact, resolved(step.values)))
    return Scenario(
        f"{clause}: {case.name}",
        clause,
        resolved(case.start),
        steps,
        approve_held=case.approve_held,
        end_state=case.end_state,
        closed=case.closed,
        our_side=case.our_side or "customer",
    )
