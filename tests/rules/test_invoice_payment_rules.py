"""The real invoice-payment rulebook (MSA §3), as a table of facts -> decisions.

The facts include what the invoice_position calculator derives (fully_paid,
dispute_open, days_past_due, ...), because the rules only ever compare those flags.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rules.engine import evaluate
from rules.rulebook import Rulebook, RulebookRegistry, load_rulebook

REPO = Path(__file__).resolve().parents[2]
FILE = REPO / "rules" / "clauses" / "invoice_payment" / "rulebook.v1.yaml"

CASE = {"clause": "invoice_payment", "rulebook_version": 1}
OPEN_STATES = ["awaiting_payment", "disputed", "overdue", "termination_right_arisen"]

# A typical position: something still outstanding, nothing late, no dispute.
OWING = {
    "fully_paid": False,
    "dispute_open": False,
    "days_past_due": 0,
    "unpaid_since_due_date": False,
    "late_resolved_amount_unpaid": False,
    "contested_amount_payable": "",
}


def deadline(name: str, state: str, **position: Any) -> dict[str, Any]:
    return {
        "event": "deadline_reached",
        "deadline": name,
        "deadline_group": name,
        "state": state,
        **OWING,
        **position,
    }


def recorded(fact: str, state: str, **position: Any) -> dict[str, Any]:
    return {"event": "fact_recorded", "fact": fact, "state": state, **OWING, **position}


CANCEL_LATER_CLOCKS = ["suspension_permissible", "unpaid_termination"]
SETTLE = [
    ("settle_invoice", "transition", "paid"),
    ("settle_invoice", "send_notice", "paid_in_full"),
    ("settle_invoice", "close", True),
]
PART_PAYMENT = [("acknowledge_part_payment", "send_notice", "payment_received")]
OVERDUE = [
    ("payment_becomes_overdue", "transition", "overdue"),
    ("payment_becomes_overdue", "set_deadlines", CANCEL_LATER_CLOCKS),
    ("payment_becomes_overdue", "send_notice", "payment_overdue"),
]
RESOLUTION_NOTICE = [("confirm_dispute_resolution", "send_notice", "dispute_resolved")]
LATE_RESOLUTION = (
    "flag_amount_found_payable_after_due_date",
    "escalate",
    "The dispute was resolved after the invoice's due date and the contested amount found "
    "payable is unpaid. It is due from the day of the resolution; Clauseflow times "
    "suspension and termination from the original due date only, so check any notice of "
    "suspension or termination for this amount by hand.",
)
TERMINATION_ESCALATION = (
    "An undisputed amount of the invoice is still unpaid the set number of days after its "
    "due date (MSA §10): the Provider may now terminate the agreement immediately on notice. "
    "Decide whether to terminate, chase payment or agree a plan."
)

TABLE: list[tuple[str, dict[str, Any], list[tuple[str, str, Any]]]] = [
    (
        "case started",
        {"event": "case_started", "state": "opened", **OWING},
        [
            ("acknowledge_invoice", "transition", "awaiting_payment"),
            ("acknowledge_invoice", "set_deadlines", ["dispute_window", "payment_due"]),
            ("acknowledge_invoice", "send_notice", "invoice_received"),
        ],
    ),
    # -- disputes ---------------------------------------------------------------------
    (
        "dispute recorded while awaiting payment",
        recorded("dispute_raised", "awaiting_payment", dispute_open=True),
        [
            ("record_dispute", "transition", "disputed"),
            ("record_dispute", "send_notice", "dispute_acknowledged"),
        ],
    ),
    (
        "a second dispute while one is open does nothing",
        recorded("dispute_raised", "disputed", dispute_open=True),
        [],
    ),
    ("dispute window closing has no rule", deadline("dispute_window", "awaiting_payment"), []),
    (
        "resolution before the due date leaves an amount to pay",
        recorded("dispute_resolved", "disputed", contested_amount_payable="1000.00"),
        [
            *RESOLUTION_NOTICE,
            ("payment_period_resumes_after_resolution", "transition", "awaiting_payment"),
        ],
    ),
    (
        "resolution after the due date leaves a newly payable amount unpaid",
        recorded(
            "dispute_resolved",
            "disputed",
            contested_amount_payable="1500.00",
            late_resolved_amount_unpaid=True,
        ),
        [
            *RESOLUTION_NOTICE,
            ("payment_period_resumes_after_resolution", "transition", "awaiting_payment"),
            LATE_RESOLUTION,
        ],
    ),
    (
        "late resolution while the uncontested part is overdue keeps the case overdue",
        recorded(
            "dispute_resolved",
            "overdue",
            contested_amount_payable="1500.00",
            late_resolved_amount_unpaid=True,
            days_past_due=40,
        ),
        [*RESOLUTION_NOTICE, LATE_RESOLUTION],
    ),
    (
        "resolution that leaves nothing to pay settles the invoice",
        recorded("dispute_resolved", "disputed", contested_amount_payable="0.00", fully_paid=True),
        [*RESOLUTION_NOTICE, *SETTLE],
    ),
    (
        "a resolution recorded with no dispute to resolve sends nothing",
        recorded("dispute_resolved", "overdue", days_past_due=3),
        [],
    ),
    # -- payments ---------------------------------------------------------------------
    (
        "part payment before the due date",
        recorded("payment_received", "awaiting_payment"),
        PART_PAYMENT,
    ),
    (
        "part payment while overdue that leaves an amount overdue",
        recorded("payment_received", "overdue", days_past_due=12, unpaid_since_due_date=True),
        PART_PAYMENT,
    ),
    (
        "overdue amount paid while the dispute runs: back to disputed, clocks stop",
        recorded("payment_received", "overdue", dispute_open=True),
        [
            *PART_PAYMENT,
            ("overdue_amount_paid_while_dispute_runs", "transition", "disputed"),
            ("overdue_amount_paid_while_dispute_runs", "cancel_deadlines", CANCEL_LATER_CLOCKS),
        ],
    ),
    (
        "overdue amount paid after the termination right arose, dispute still open",
        recorded("payment_received", "termination_right_arisen", dispute_open=True),
        [
            *PART_PAYMENT,
            ("overdue_amount_paid_while_dispute_runs", "transition", "disputed"),
            ("overdue_amount_paid_while_dispute_runs", "cancel_deadlines", CANCEL_LATER_CLOCKS),
        ],
    ),
    (
        "overdue amount paid, the rest not yet late",
        recorded("payment_received", "overdue"),
        [
            *PART_PAYMENT,
            ("overdue_amount_paid_balance_not_yet_late", "transition", "awaiting_payment"),
            ("overdue_amount_paid_balance_not_yet_late", "cancel_deadlines", CANCEL_LATER_CLOCKS),
        ],
    ),
    (
        "part payment while disputed and nothing late",
        recorded("payment_received", "disputed", dispute_open=True),
        PART_PAYMENT,
    ),
    *[
        (
            f"payment in full while {state}",
            recorded("payment_received", state, fully_paid=True),
            SETTLE,
        )
        for state in OPEN_STATES
    ],
    # -- the payment due date -------------------------------------------------------------
    (
        "due date passes with an amount unpaid",
        deadline("payment_due", "awaiting_payment", days_past_due=1, unpaid_since_due_date=True),
        OVERDUE,
    ),
    (
        "due date passes with the uncontested part unpaid during a dispute",
        deadline(
            "payment_due",
            "disputed",
            days_past_due=1,
            dispute_open=True,
            unpaid_since_due_date=True,
        ),
        OVERDUE,
    ),
    (
        "due date passes with the uncontested part paid and the dispute open",
        deadline("payment_due", "disputed", dispute_open=True),
        [],
    ),
    # -- suspension and termination -------------------------------------------------------
    (
        "suspension becomes permissible while overdue",
        deadline("suspension_permissible", "overdue", days_past_due=8),
        [("suspension_becomes_permissible", "send_notice", "suspension_permissible")],
    ),
    (
        "suspension deadline reached after the case left overdue",
        deadline("suspension_permissible", "disputed", dispute_open=True),
        [],
    ),
    (
        "an undisputed amount still unpaid at the termination date",
        deadline("unpaid_termination", "overdue", days_past_due=31, unpaid_since_due_date=True),
        [
            ("termination_right_arises", "transition", "termination_right_arisen"),
            ("termination_right_arises", "send_notice", "termination_right_arisen"),
            ("termination_right_arises", "escalate", TERMINATION_ESCALATION),
        ],
    ),
    (
        "only a late-resolved amount unpaid at the termination date: no termination right",
        deadline(
            "unpaid_termination", "overdue", days_past_due=5, late_resolved_amount_unpaid=True
        ),
        [],
    ),
    ("a failed notice has no rule", {"event": "notice_failed", "state": "overdue", **OWING}, []),
]


@pytest.fixture(scope="module")
def rulebook() -> Rulebook:
    return load_rulebook(FILE, check_templates=True)


@pytest.fixture(scope="module")
def registry(rulebook: Rulebook) -> RulebookRegistry:
    registry = RulebookRegistry(check_templates=True)
    registry.add(rulebook)
    return registry


@pytest.mark.parametrize(
    ("facts", "expected"), [row[1:] for row in TABLE], ids=[r[0] for r in TABLE]
)
def test_invoice_payment_rules(registry, facts, expected) -> None:
    decisions = evaluate({**CASE, **facts}, registry)
    assert [(d.rule, d.action, d.value) for d in decisions] == expected


def test_every_rule_is_exercised_by_the_table(rulebook) -> None:
    fired = {rule for _, _, expected in TABLE for rule, _, _ in expected}
    assert fired == {rule.name for rule in rulebook.rules}


def test_disputes_are_refused_once_the_dispute_window_has_passed(rulebook) -> None:
    dispute = rulebook.recordable_facts["dispute_raised"]
    assert dispute.allowed_before == "dispute_window"
    assert dispute.allowed_in == ["awaiting_payment"]
    assert set(dispute.fields) == {"contested_amount", "reason"}
    assert all(f.required for f in dispute.fields.values())


def test_payments_may_be_recorded_in_every_open_state(rulebook) -> None:
    assert rulebook.recordable_facts["payment_received"].allowed_in == []
    assert [s for s, spec in rulebook.states.items() if not spec.terminal] == OPEN_STATES


def test_periods_come_from_the_payment_terms(rulebook) -> None:
    assert rulebook.parameters["dispute_window_days"] == "clauses.payment.dispute_window_days"
    assert rulebook.parameters["payment_days"] == "clauses.payment.payment_days"
    assert rulebook.deadlines["unpaid_termination"].from_.deadline == "payment_due"
    assert rulebook.derive == ["invoice_position"]
