"""The material-breach rulebook (MSA §10, §5) beyond its decision table
(rules/clauses/material_breach/scenarios.yaml, run by test_scenarios.py)."""

from __future__ import annotations

CLAUSE = "material_breach"
RUNNING = "cure_period_running"
ARISEN = "termination_right_arisen"


def test_cure_can_only_be_recorded_while_the_cure_period_runs(rulebook) -> None:
    cured = rulebook.recordable_facts["breach_cured"]
    assert cured.allowed_in == [RUNNING]
    assert cured.allowed_before == "cure_period"
    assert {"evidence", "cured_on"} <= {n for n, f in cured.fields.items() if f.required}
    for fact in ("termination_exercised", "right_waived"):
        assert rulebook.recordable_facts[fact].allowed_in == [ARISEN]


def test_the_termination_right_waits_for_a_decision(rulebook) -> None:
    assert not rulebook.is_terminal(ARISEN)
    assert rulebook.states[ARISEN].expected_dwell_days
    for state in ("cured", "terminated_for_cause", "right_waived"):
        assert rulebook.is_terminal(state)


def test_cure_period_comes_from_the_termination_for_cause_terms(rulebook) -> None:
    assert (
        rulebook.parameters["cure_period_days"] == "clauses.termination_for_cause.cure_period_days"
    )
    assert rulebook.deadlines["cure_period"].period.unit == "calendar_days"
    assert rulebook.derive == ["breach_basis"]
