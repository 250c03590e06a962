"""The real indemnity-claim rulebook (MSA §4), as a table of facts -> decisions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rules.engine import evaluate
from rules.rulebook import Rulebook, RulebookRegistry, load_rulebook

REPO = Path(__file__).resolve().parents[2]
FILE = REPO / "rules" / "clauses" / "indemnity_claim" / "rulebook.v1.yaml"

AWAITING = "awaiting_defence"
ASSUMED = "defence_assumed"
DECLINED = "defence_declined"
CASE = {"clause": "indemnity_claim", "rulebook_version": 1, "given_by": "customer"}


def deadline(name: str, state: str) -> dict[str, Any]:
    return {"event": "deadline_reached", "deadline": name, "deadline_group": name, "state": state}


def recorded(fact: str, state: str, **values: Any) -> dict[str, Any]:
    return {"event": "fact_recorded", "fact": fact, "state": state, **values}


NOTICE = [
    ("give_notice_of_claim", "transition", AWAITING),
    ("give_notice_of_claim", "set_deadlines", ["defence_reminder", "defence_escalation"]),
    ("give_notice_of_claim", "send_notice", "claim_notice"),
]
PROVIDER_CLAIM = (
    "This claim is for an indemnity of the Provider. The §4 procedure is written for claims "
    "against the Customer; check which terms govern notice, defence and settlement before "
    "relying on this case."
)
STILL_OPEN = (
    "10 business days after the claim was received, no one has taken over its defence. "
    "Chase the indemnifying party or instruct counsel so that no court deadline is missed."
)
DECLINED_REASON = (
    "The indemnifying party declined to defend the claim. The indemnified party must defend "
    "it itself and keep a record of its costs for the indemnity."
)
NEEDS_CONSENT = (
    "The proposed settlement does not fully release the Customer free of obligations, so it "
    "needs the Customer's written consent before it is agreed (§4)."
)
TAKE_OVER = [
    ("defence_taken_over", "transition", ASSUMED),
    ("defence_taken_over", "cancel_deadlines", ["defence_reminder", "defence_escalation"]),
    ("defence_taken_over", "send_notice", "defence_assumed"),
]
SETTLE = [
    ("claim_settled", "transition", "settled"),
    ("claim_settled", "cancel_deadlines", "all"),
    ("claim_settled", "send_notice", "settlement_recorded"),
    ("claim_settled", "close", True),
]
RESOLVE = [
    ("claim_finally_resolved", "transition", "resolved"),
    ("claim_finally_resolved", "cancel_deadlines", "all"),
    ("claim_finally_resolved", "send_notice", "claim_resolved"),
    ("claim_finally_resolved", "close", True),
]
PROPOSAL = [("settlement_proposal_notified", "send_notice", "settlement_proposed")]

TABLE: list[tuple[str, dict[str, Any], list[tuple[str, str, Any]]]] = [
    ("claim by the customer is notified to the provider", {"event": "case_started"}, NOTICE),
    (
        "claim for an indemnity of the provider is notified and escalated",
        {"event": "case_started", "given_by": "provider"},
        [*NOTICE, ("flag_claim_for_the_provider", "escalate", PROVIDER_CLAIM)],
    ),
    (
        "owner reminded when no defence is recorded after 5 business days",
        deadline("defence_reminder", AWAITING),
        [("remind_owner_defence_not_taken_over", "send_notice", "defence_reminder")],
    ),
    ("no reminder once the defence is taken over", deadline("defence_reminder", ASSUMED), []),
    (
        "escalated when no defence is recorded after 10 business days",
        deadline("defence_escalation", AWAITING),
        [("escalate_defence_still_open", "escalate", STILL_OPEN)],
    ),
    ("no escalation once the defence is declined", deadline("defence_escalation", DECLINED), []),
    ("defence taken over while awaited", recorded("defence_assumed", AWAITING), TAKE_OVER),
    ("defence taken over after first declining", recorded("defence_assumed", DECLINED), TAKE_OVER),
    ("defence taken over twice does nothing", recorded("defence_assumed", ASSUMED), []),
    (
        "defence declined",
        recorded("defence_declined", AWAITING),
        [
            ("defence_refused", "transition", DECLINED),
            ("defence_refused", "cancel_deadlines", ["defence_reminder", "defence_escalation"]),
            ("defence_refused", "send_notice", "defence_declined"),
            ("defence_refused", "escalate", DECLINED_REASON),
        ],
    ),
    ("declining after taking over does nothing", recorded("defence_declined", ASSUMED), []),
    (
        "proposal with a full release is notified without escalation",
        recorded("settlement_proposed", ASSUMED, full_release_without_obligations=True),
        PROPOSAL,
    ),
    (
        "proposal without a full release needs the customer's consent",
        recorded("settlement_proposed", ASSUMED, full_release_without_obligations=False),
        [*PROPOSAL, ("settlement_proposal_needs_consent", "escalate", NEEDS_CONSENT)],
    ),
    (
        "settlement during the defence closes the claim",
        recorded("settlement_agreed", ASSUMED),
        SETTLE,
    ),
    ("settlement while the defence is awaited", recorded("settlement_agreed", AWAITING), SETTLE),
    (
        "settlement by the customer defending itself",
        recorded("settlement_agreed", DECLINED),
        SETTLE,
    ),
    (
        "settlement after final resolution does nothing",
        recorded("settlement_agreed", "resolved"),
        [],
    ),
    ("final resolution closes the claim", recorded("claim_resolved", ASSUMED), RESOLVE),
    ("final resolution without a defender", recorded("claim_resolved", DECLINED), RESOLVE),
    ("final resolution after settlement does nothing", recorded("claim_resolved", "settled"), []),
    ("a failed notice has no rule", {"event": "notice_failed", "state": AWAITING}, []),
]


@pytest.fixture(scope="module")
def rulebook() -> Rulebook:
    return load_rulebook(FILE, check_templates=True)


@pytest.fixture(scope="module")
def registry(rulebook: Rulebook) -> RulebookRegistry:
    registry = RulebookRegistry()
    registry.add(rulebook)
    return registry


@pytest.mark.parametrize(
    ("facts", "expected"), [row[1:] for row in TABLE], ids=[r[0] for r in TABLE]
)
def test_indemnity_claim_rules(registry, facts, expected) -> None:
    decisions = evaluate({**CASE, **facts}, registry)
    assert [(d.rule, d.action, d.value) for d in decisions] == expected


def test_every_rule_is_exercised_by_the_table(rulebook) -> None:
    fired = {rule for _, _, expected in TABLE for rule, _, _ in expected}
    assert fired == {rule.name for rule in rulebook.rules}


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
