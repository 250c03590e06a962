"""The invoice-payment rulebook (MSA §3) beyond its decision table
(rules/clauses/invoice_payment/scenarios.yaml, run by test_scenarios.py)."""

from __future__ import annotations

CLAUSE = "invoice_payment"
OPEN_STATES = ["awaiting_payment", "disputed", "overdue", "termination_right_arisen"]


def test_disputes_are_refused_once_the_dispute_window_has_passed(rulebook) -> None:
    dispute = rulebook.recordable_facts["dispute_raised"]
    assert dispute.allowed_before == "dispute_window"
    assert dispute.allowed_in == ["awaiting_payment"]
    assert set(dispute.fields) == {"contested_amount", "reason"}
    assert all(f.required for f in dispute.fields.values())


def test_payments_may_be_recorded_in_every_open_state(rulebook) -> None:
    assert rulebook.recordable_facts["payment_received"].allowed_in == []
    assert [s for s, spec in rulebook.states.items() if not spec.terminal] == OPEN_STATES


def test_the_table_settles_a_payment_in_full_in_every_open_state(scenarios) -> None:
    # The Python table wrote these rows in a loop over OPEN_STATES; the file spells them out.
    settled = {
        row.facts["state"]
        for row in scenarios.rows
        if row.facts.get("fact") == "payment_received"
        and row.facts.get("fully_paid")
        and ("settle_invoice", "close", True) in row.expect
    }
    assert settled == set(OPEN_STATES)


def test_periods_come_from_the_payment_terms(rulebook) -> None:
    assert rulebook.parameters["dispute_window_days"] == "clauses.payment.dispute_window_days"
    assert rulebook.parameters["payment_days"] == "clauses.payment.payment_days"
    assert rulebook.deadlines["unpaid_termination"].from_.deadline == "payment_due"
    assert rulebook.derive == ["invoice_position"]
