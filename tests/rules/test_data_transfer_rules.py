"""The data-transfer rulebook (MSA §13, Exhibit D) beyond its decision table
(rules/clauses/data_transfer/scenarios.yaml, run by test_scenarios.py)."""

from __future__ import annotations

CLAUSE = "data_transfer"
REQUESTED, GIVEN = "consent_requested", "consent_given"


def test_a_decision_is_only_recordable_while_consent_is_pending(rulebook) -> None:
    facts = rulebook.recordable_facts
    assert facts["consent_given"].allowed_in == [REQUESTED]
    assert facts["consent_refused"].allowed_in == [REQUESTED]
    assert facts["transfer_made"].allowed_in == [REQUESTED, GIVEN]
    assert facts["transfer_made"].fields["consent_on_file"].type == "boolean"
    assert facts["transfer_made"].fields["consent_on_file"].required


def test_the_reminder_counts_ten_business_days_from_the_request(rulebook) -> None:
    spec = rulebook.deadlines["decision_reminder"]
    assert (spec.period.count, spec.period.unit) == (10, "business_days")
    assert spec.from_.fact == "requested_at"
    assert rulebook.parameters == {
        "permitted_jurisdictions": "clauses.data_transfer.permitted_jurisdictions"
    }
