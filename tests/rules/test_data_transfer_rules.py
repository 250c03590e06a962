"""The real data-transfer rulebook (MSA §13, Exhibit D), as a table of facts -> decisions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rules.engine import evaluate
from rules.rulebook import Rulebook, RulebookRegistry, load_rulebook

REPO = Path(__file__).resolve().parents[2]
FILE = REPO / "rules" / "clauses" / "data_transfer" / "rulebook.v1.yaml"

CASE = {"clause": "data_transfer", "rulebook_version": 1, "destination": "Singapore"}
REQUESTED, GIVEN = "consent_requested", "consent_given"


def recorded(fact: str, state: str, **values: Any) -> dict[str, Any]:
    return {"event": "fact_recorded", "fact": fact, "state": state, **values}


def reminder(state: str) -> dict[str, Any]:
    return {
        "event": "deadline_reached",
        "deadline": "decision_reminder",
        "deadline_group": "decision_reminder",
        "state": state,
    }


BEFORE_CONSENT = (
    "Customer Data was transferred outside the permitted jurisdictions before the Customer's "
    "prior written consent was recorded (MSA §13, Exhibit D). Treat it as a possible breach: "
    "establish what was sent, where and when, have it contained, and consider the Customer's "
    "remedies."
)
NOT_ON_FILE = (
    "Customer Data was transferred, but no signed written consent of the Customer is on file "
    "(MSA §13 requires prior written consent). Find the written consent or treat the transfer "
    "as made without it."
)


def unauthorised(rule: str, reason: str) -> list[tuple[str, str, Any]]:
    return [
        (rule, "transition", "transferred_without_consent"),
        (rule, "send_notice", "unauthorised_transfer"),
        (rule, "escalate", reason),
        (rule, "close", True),
    ]


WITHDRAW = [
    ("withdraw_request", "transition", "withdrawn"),
    ("withdraw_request", "send_notice", "request_withdrawn"),
    ("withdraw_request", "close", True),
]

TABLE: list[tuple[str, dict[str, Any], list[tuple[str, str, Any]]]] = [
    (
        "case started",
        {"event": "case_started", "state": "opened"},
        [
            ("acknowledge_request", "transition", REQUESTED),
            ("acknowledge_request", "set_deadlines", ["decision_reminder"]),
            ("acknowledge_request", "send_notice", "consent_requested"),
        ],
    ),
    (
        "no decision by the reminder date",
        reminder(REQUESTED),
        [("remind_owner_of_pending_decision", "send_notice", "owner_reminder")],
    ),
    ("reminder after consent is silent", reminder(GIVEN), []),
    (
        "written consent given",
        recorded("consent_given", REQUESTED, consented_by="Dana Whitfield"),
        [
            ("record_written_consent", "transition", GIVEN),
            ("record_written_consent", "cancel_deadlines", ["decision_reminder"]),
            ("record_written_consent", "send_notice", "consent_confirmed"),
        ],
    ),
    ("consent recorded twice does nothing", recorded("consent_given", GIVEN), []),
    (
        "consent refused",
        recorded("consent_refused", REQUESTED, reason="No adequacy decision"),
        [
            ("record_refusal", "transition", "consent_refused"),
            ("record_refusal", "send_notice", "consent_refused"),
            ("record_refusal", "close", True),
        ],
    ),
    ("refusal after consent does nothing", recorded("consent_refused", GIVEN), []),
    (
        "transfer before any consent, even if someone says consent is on file",
        recorded("transfer_made", REQUESTED, consent_on_file=True),
        unauthorised("transfer_before_consent", BEFORE_CONSENT),
    ),
    (
        "transfer before any consent, none on file",
        recorded("transfer_made", REQUESTED, consent_on_file=False),
        unauthorised("transfer_before_consent", BEFORE_CONSENT),
    ),
    (
        "transfer after consent but no written consent on file",
        recorded("transfer_made", GIVEN, consent_on_file=False),
        unauthorised("transfer_without_written_consent_on_file", NOT_ON_FILE),
    ),
    (
        "transfer after consent with written consent on file",
        recorded("transfer_made", GIVEN, consent_on_file=True),
        [
            ("transfer_with_consent", "transition", "transferred"),
            ("transfer_with_consent", "send_notice", "transfer_recorded"),
            ("transfer_with_consent", "close", True),
        ],
    ),
    (
        "transfer after refusal (closed case) does nothing",
        recorded("transfer_made", "consent_refused", consent_on_file=False),
        [],
    ),
    ("withdrawn while awaiting a decision", recorded("request_withdrawn", REQUESTED), WITHDRAW),
    ("withdrawn after consent", recorded("request_withdrawn", GIVEN), WITHDRAW),
    (
        "withdrawal after the transfer does nothing",
        recorded("request_withdrawn", "transferred"),
        [],
    ),
    ("a failed notice has no rule", {"event": "notice_failed", "state": REQUESTED}, []),
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
def test_data_transfer_rules(registry, facts, expected) -> None:
    decisions = evaluate({**CASE, **facts}, registry)
    assert [(d.rule, d.action, d.value) for d in decisions] == expected


def test_every_rule_is_exercised_by_the_table(rulebook) -> None:
    fired = {rule for _, _, expected in TABLE for rule, _, _ in expected}
    assert fired == {rule.name for rule in rulebook.rules}


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
