"""The indemnity-claim rulebook (MSA §4) beyond its decision table
(rules/clauses/indemnity_claim/scenarios.yaml, run by test_scenarios.py)."""

from __future__ import annotations

CLAUSE = "indemnity_claim"


def test_settlement_needs_consent_or_a_clean_release(rulebook) -> None:
    agreed = rulebook.recordable_facts["settlement_agreed"]
    [requirement] = agreed.require_any_true
    assert requirement.fields == ["customer_consented", "full_release_without_obligations"]
    assert "written consent" in requirement.message and "§4" in requirement.message
    for name in requirement.fields:
        assert agreed.fields[name].type == "boolean"


def test_defence_reminders_count_business_days_from_receipt(rulebook) -> None:
    reminder = rulebook.deadlines["defence_reminder"]
    escalation = rulebook.deadlines["defence_escalation"]
    assert (reminder.period.count, reminder.period.unit) == (5, "business_days")
    assert (escalation.period.count, escalation.period.unit) == (10, "business_days")
    assert reminder.from_.fact == escalation.from_.fact == "claim_received_at"
    assert rulebook.recordable_facts["defence_assumed"].fields["counsel"].required
