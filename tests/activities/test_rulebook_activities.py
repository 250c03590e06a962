"""The local activities that read rulebooks: parameters and calculators reach the rules."""

from __future__ import annotations

import datetime as dt

from activities.rulebooks import decide, parameter_facts
from activities.types import DecideInput, DeriveContext
from workers.seed import reference_term_sheet

TERMS = reference_term_sheet().model_dump(mode="json")


def test_term_sheet_figures_are_facts_the_rules_can_test() -> None:
    facts = parameter_facts("termination_for_convenience", 1, TERMS)
    assert facts["notice_period_days"] == 90
    assert "reminder_days_before" not in facts  # a list is not a scalar the rules compare


def test_decide_runs_the_calculators_first_and_returns_what_they_derived() -> None:
    now = dt.datetime(2037, 11, 2, 12, tzinfo=dt.UTC)
    result = decide(
        DecideInput(
            {
                "clause": "incident_response",
                "rulebook_version": 1,
                "event": "case_started",
                "state": "opened",
                "reported_at": "2037-11-02T15:00:00Z",
                "severity": "high",
                "description": "x",
            },
            DeriveContext(TERMS, {"reported_at": "2037-11-02T15:00:00Z"}, [], {}, now, now),
        )
    )
    # 10:00 New York on a Monday is inside business hours: the 2-business-hour target.
    assert result.derived["reported_in_business_hours"] is True
    set_ = [name for d in result.decisions if d.action == "set_deadlines" for name in d.value]
    assert sorted(set_) == ["resolution_due", "response_due_business"]
