"""Every clause's scenarios (rules/clauses/<clause>/scenarios.yaml) against its rulebook.

The clauses come from the registry, so a new clause is tested here as soon as it has a
rulebook: its scenarios must load, its start facts must be valid against the reference
contract today, and its decision table must hold row by row and exercise every rule and
reach every deadline.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

import pytest

from contracts.terms import TermSheet
from rules.derive import parameter_facts
from rules.engine import evaluate
from rules.facts import validate_recorded_fact, validate_start_facts
from rules.rulebook import COULD_NOT_START, Rulebook, default_registry
from rules.scenarios import (
    CasePath,
    DecisionRow,
    Scenarios,
    ScenariosError,
    check_against,
    load_scenarios,
    resolve_facts,
    scenarios_path,
)
from rules.senders import side_facts, sort_decisions
from tests.dates import at_ny_on, ny_today
from workers.seed import reference_term_sheet

CLAUSES = default_registry().clauses()


@functools.cache
def _terms() -> TermSheet:
    return reference_term_sheet()


@functools.cache
def _scenarios(clause: str) -> Scenarios:
    return load_scenarios(scenarios_path(clause))


def _rulebook(scenarios: Scenarios) -> Rulebook:
    return default_registry().get(scenarios.clause, scenarios.rulebook_version)


def _each(what: str) -> list[Any]:
    """Every row (or path) of every clause that loads; one that does not fails
    test_scenarios_load_and_name_only_what_the_rulebook_declares."""
    params = []
    for clause in CLAUSES:
        try:
            items = getattr(_scenarios(clause), what)
        except ScenariosError:
            continue
        params += [pytest.param(clause, item, id=f"{clause}: {item.name}") for item in items]
    return params


@pytest.mark.parametrize("clause", CLAUSES)
def test_scenarios_load_and_name_only_what_the_rulebook_declares(clause: str) -> None:
    scenarios = _scenarios(clause)
    check_against(scenarios, _rulebook(scenarios))


@pytest.mark.parametrize(("clause", "row"), _each("rows"))
def test_decision_table(clause: str, row: DecisionRow) -> None:
    scenarios = _scenarios(clause)
    rulebook = _rulebook(scenarios)
    own = scenarios.facts(row)
    # A row may run from the Provider's side: the term sheet's our_side follows it.
    terms = _terms().model_copy(update={"our_side": own.get("our_side", _terms().our_side)})
    # As the decide activity does: the term sheet's figures, which side we are, then
    # the case's own facts; the other party's notices are expected, not sent.
    facts = parameter_facts(rulebook, terms) | side_facts(rulebook, terms, own) | own
    decisions = sort_decisions(rulebook, terms, facts, evaluate(facts))
    got = [(d.rule, d.action, d.value) for d in decisions]
    assert got == list(row.expect), scenarios.where(row)


@pytest.mark.parametrize("clause", CLAUSES)
def test_every_rule_is_exercised_by_the_table(clause: str) -> None:
    scenarios = _scenarios(clause)
    fired = {rule for row in scenarios.rows for rule, _, _ in row.expect}
    assert fired == {rule.name for rule in _rulebook(scenarios).rules}


@pytest.mark.parametrize("clause", CLAUSES)
def test_every_deadline_of_the_reference_terms_is_reached_in_the_table(clause: str) -> None:
    scenarios = _scenarios(clause)
    rulebook = _rulebook(scenarios)
    expanded = rulebook.expanded_deadlines(rulebook.parameter_values(_terms()))
    reached = {
        (row.facts["deadline"], row.facts["deadline_group"])
        for row in scenarios.rows
        if row.facts["event"] == "deadline_reached"
    }
    assert {(name, d.group) for name, d in expanded.items()} <= reached


@pytest.mark.parametrize(
    ("clause", "group", "remind", "names"),
    [
        (
            "termination_for_convenience",
            "reminder",
            ("remind_owner_before_effective_date", "send_notice", "owner_reminder"),
            {"reminder_60", "reminder_30", "reminder_7"},
        ),
        (
            "term_expiry",
            "expiry_reminder",
            ("remind_owner_before_expiry", "send_notice", "expiry_reminder"),
            {"expiry_reminder_180", "expiry_reminder_90", "expiry_reminder_30"},
        ),
    ],
)
def test_table_covers_every_reminder_of_the_reference_terms(
    clause: str, group: str, remind: tuple[str, str, str], names: set[str]
) -> None:
    scenarios = _scenarios(clause)
    rulebook = _rulebook(scenarios)
    expanded = rulebook.expanded_deadlines(rulebook.parameter_values(_terms()))
    reminders = {name for name, d in expanded.items() if d.group == group}
    covered = {row.facts.get("deadline") for row in scenarios.rows if row.expect == (remind,)}
    assert reminders == covered == names


def _nows() -> list[Any]:
    # Now, and today's first and last minute in New York: a relative date that lands on
    # the wrong day (or a day still ahead in New York) shows at the edges.
    today = ny_today()
    return [
        pytest.param(lambda: dt.datetime.now(dt.UTC), id="now"),
        pytest.param(lambda: at_ny_on(today, 0, 1), id="00:01 New York"),
        pytest.param(lambda: at_ny_on(today, 23, 59), id="23:59 New York"),
    ]


@pytest.mark.parametrize("now", _nows())
@pytest.mark.parametrize("clause", CLAUSES)
def test_start_facts_are_valid_for_the_reference_contract(clause: str, now: Any) -> None:
    scenarios = _scenarios(clause)
    terms = _terms()
    at = now()
    facts = scenarios.start_facts(now=at, time_zone=terms.time_zone)
    checked = validate_start_facts(
        _rulebook(scenarios),
        facts,
        time_zone=terms.time_zone,
        now=at,
        effective_date=terms.effective_date,
    )
    assert set(checked) == set(facts)


@pytest.mark.parametrize(("clause", "case"), _each("paths"))
def test_a_path_records_only_what_its_states_allow(clause: str, case: CasePath) -> None:
    scenarios = _scenarios(clause)
    # A recorded history's path keeps the version it was recorded on.
    rulebook = default_registry().get(clause, case.rulebook_version or scenarios.rulebook_version)
    terms = _terms()
    # A path at a fixed moment (a recorded history's) is checked at that moment and at
    # each one its clock travels to; a path without one happens now.
    now = case.at or dt.datetime.now(dt.UTC)
    zone = terms.time_zone
    facts = resolve_facts(case.start, now=now, time_zone=zone)
    # A path starts its case on the workflow directly, as the chaos run does: no check
    # against the contract's effective date (an expired term begins before it). A
    # recorded history keeps the facts it was recorded with, some told ahead of its
    # clock; and a case that could not start has facts no check passes, on purpose.
    if not any(getattr(step, "in_state", None) == COULD_NOT_START for step in case.steps):
        at = None if case.histories else now
        facts = validate_start_facts(rulebook, facts, time_zone=zone, now=at)
    for at, step in case.timeline(now=now, time_zone=zone):
        validate_recorded_fact(
            rulebook,
            step.fact,
            resolve_facts(step.values, now=now, time_zone=zone),
            state=step.in_state,
            time_zone=zone,
            now=at,
            effective_date=terms.effective_date,
            case_facts=facts,
        )
    # A case an operator closes ends in a state no rulebook declares.
    ended = rulebook.is_terminal(case.end_state) or case.end_state == case.closed_by_operator
    assert ended == case.closed
