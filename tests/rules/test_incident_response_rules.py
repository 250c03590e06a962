"""The incident-response rulebook beyond its decision table
(rules/clauses/incident_response/scenarios.yaml, run by test_scenarios.py)."""

from __future__ import annotations

CLAUSE = "incident_response"


def test_targets_use_the_units_the_exhibit_names(rulebook) -> None:
    units = {name: d.period.unit for name, d in rulebook.deadlines.items()}
    assert units["response_due_business"] == "business_hours"
    assert units["response_due_outside"] == "hours"
    assert units["resolution_due"] == "hours"
    # The extension lands exactly on the recorded extended_until: zero elapsed hours.
    extended = rulebook.deadlines["extended_resolution_due"]
    assert (extended.from_.fact, extended.from_.deadline) == ("extended_until", None)
    assert (extended.direction, extended.period.count, units["extended_resolution_due"]) == (
        "after",
        0,
        "hours",
    )
    assert set(units) == {
        "response_due_business",
        "response_due_outside",
        "resolution_due",
        "extended_resolution_due",
    }


def test_extended_until_is_recorded_not_a_start_fact(rulebook) -> None:
    assert "extended_until" not in rulebook.facts
    field = rulebook.recordable_facts["resolution_extended"].fields["extended_until"]
    assert (field.type, field.required) == ("datetime", True)
