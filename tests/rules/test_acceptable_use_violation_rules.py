"""The acceptable-use-violation rulebook (MSA §8, Exhibit C) beyond its decision table
(rules/clauses/acceptable_use_violation/scenarios.yaml, run by test_scenarios.py)."""

from __future__ import annotations

CLAUSE = "acceptable_use_violation"
RUNNING = "cure_period_running"
ARISEN = "suspension_right_arisen"


def test_cure_is_recordable_only_before_the_cure_period_ends(rulebook) -> None:
    cured = rulebook.recordable_facts["violation_cured"]
    assert cured.allowed_in == [RUNNING] and cured.allowed_before == "cure_period"
    assert {"evidence", "cured_on"} <= {n for n, f in cured.fields.items() if f.required}
    # Suspension and termination only once the cure period has lapsed.
    assert rulebook.recordable_facts["access_suspended"].allowed_in == [ARISEN]
    assert RUNNING not in rulebook.recordable_facts["access_terminated"].allowed_in


def test_cure_period_comes_from_the_acceptable_use_terms(rulebook) -> None:
    assert rulebook.parameters["cure_period_days"] == "clauses.acceptable_use.cure_period_days"
    notices = rulebook.notices
    assert notices["violation_acknowledgement"].to == ["customer"]
    assert notices["violation_confirmation"].to == ["provider"]
    for both in ("violation_cured", "cure_period_lapsed"):
        assert notices[both].to == ["customer", "provider"]
