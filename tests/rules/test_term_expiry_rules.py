"""The term-expiry rulebook beyond its decision table
(rules/clauses/term_expiry/scenarios.yaml, run by test_scenarios.py)."""

from __future__ import annotations

CLAUSE = "term_expiry"


def test_expiry_counts_the_last_twelve_months_from_the_derived_fact(rulebook) -> None:
    expiry = rulebook.deadlines["term_expiry"]
    assert rulebook.derive == ["term_dates"]
    assert expiry.from_.fact == "final_year_starts_on"
    assert (expiry.period.count, expiry.period.unit) == (12, "months")
    assert expiry.ends == "start_of_day" and expiry.effective_roll == "none"
    assert rulebook.recordable_facts["renewed"].allowed_before == "term_expiry"
