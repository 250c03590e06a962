"""The real acceptable-use-violation rulebook (MSA §8, Exhibit C), as facts -> decisions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rules.engine import evaluate
from rules.rulebook import Rulebook, RulebookRegistry, load_rulebook

REPO = Path(__file__).resolve().parents[2]
FILE = REPO / "rules" / "clauses" / "acceptable_use_violation" / "rulebook.v1.yaml"

RUNNING = "cure_period_running"
ARISEN = "suspension_right_arisen"
SUSPENDED = "access_suspended"
CASE = {"clause": "acceptable_use_violation", "rulebook_version": 1, "given_by": "provider"}


def deadline(name: str, state: str) -> dict[str, Any]:
    return {"event": "deadline_reached", "deadline": name, "deadline_group": name, "state": state}


def recorded(fact: str, state: str) -> dict[str, Any]:
    return {"event": "fact_recorded", "fact": fact, "state": state}


LAPSE_REASON = (
    "The cure period for the acceptable use violation ended without a recorded cure: the "
    "Provider may now suspend or terminate the Customer's access. Record what it does."
)
WRONG_PARTY = (
    "An acceptable use violation case was started as if the Customer gave the notice; only "
    "the Provider does (§8). Nothing was sent. Start a new case with the right party if the "
    "Provider did give notice."
)
TERMINATE = [
    ("access_terminated_after_lapse", "transition", "access_terminated"),
    ("access_terminated_after_lapse", "cancel_deadlines", "all"),
    ("access_terminated_after_lapse", "send_notice", "access_terminated"),
    ("access_terminated_after_lapse", "close", True),
]

TABLE: list[tuple[str, dict[str, Any], list[tuple[str, str, Any]]]] = [
    (
        "provider's notice opens the cure period and notifies both parties",
        {"event": "case_started", "state": "opened"},
        [
            ("open_cure_period", "transition", RUNNING),
            ("open_cure_period", "set_deadlines", ["cure_period", "cure_reminder"]),
            ("open_cure_period", "send_notice", "violation_acknowledgement"),
            ("open_cure_period", "send_notice", "violation_confirmation"),
        ],
    ),
    (
        "a notice said to come from the customer is closed as opened in error",
        {"event": "case_started", "state": "opened", "given_by": "customer"},
        [
            ("reject_notice_not_given_by_provider", "transition", "opened_in_error"),
            ("reject_notice_not_given_by_provider", "escalate", WRONG_PARTY),
            ("reject_notice_not_given_by_provider", "close", True),
        ],
    ),
    (
        "owner reminded before the cure period ends",
        deadline("cure_reminder", RUNNING),
        [("remind_owner_before_cure_period_ends", "send_notice", "cure_reminder")],
    ),
    ("no reminder once cured", deadline("cure_reminder", "cured"), []),
    (
        "violation cured within the cure period closes the case",
        recorded("violation_cured", RUNNING),
        [
            ("violation_cured_within_cure_period", "transition", "cured"),
            ("violation_cured_within_cure_period", "cancel_deadlines", "all"),
            ("violation_cured_within_cure_period", "send_notice", "violation_cured"),
            ("violation_cured_within_cure_period", "close", True),
        ],
    ),
    ("cure recorded after the lapse does nothing", recorded("violation_cured", ARISEN), []),
    (
        "cure period lapses into the right to suspend or terminate",
        deadline("cure_period", RUNNING),
        [
            ("cure_period_lapses_into_suspension_right", "transition", ARISEN),
            ("cure_period_lapses_into_suspension_right", "set_deadlines", ["decision_reminder"]),
            ("cure_period_lapses_into_suspension_right", "send_notice", "cure_period_lapsed"),
            ("cure_period_lapses_into_suspension_right", "escalate", LAPSE_REASON),
        ],
    ),
    ("cure period end after a cure does nothing", deadline("cure_period", "cured"), []),
    (
        "owner reminded to record the provider's decision",
        deadline("decision_reminder", ARISEN),
        [("remind_owner_to_record_the_decision", "send_notice", "decision_reminder")],
    ),
    ("no decision reminder after suspension", deadline("decision_reminder", SUSPENDED), []),
    (
        "suspension after the lapse",
        recorded("access_suspended", ARISEN),
        [
            ("access_suspended_after_lapse", "transition", SUSPENDED),
            ("access_suspended_after_lapse", "cancel_deadlines", ["decision_reminder"]),
            ("access_suspended_after_lapse", "send_notice", "access_suspended"),
        ],
    ),
    ("no suspension during the cure period", recorded("access_suspended", RUNNING), []),
    (
        "access restored once the violation is cured",
        recorded("access_restored", SUSPENDED),
        [
            ("access_restored_after_cure", "transition", "access_restored"),
            ("access_restored_after_cure", "send_notice", "access_restored"),
            ("access_restored_after_cure", "close", True),
        ],
    ),
    (
        "restoring access that was never suspended does nothing",
        recorded("access_restored", ARISEN),
        [],
    ),
    ("termination of access after the lapse", recorded("access_terminated", ARISEN), TERMINATE),
    ("termination of suspended access", recorded("access_terminated", SUSPENDED), TERMINATE),
    ("no termination during the cure period", recorded("access_terminated", RUNNING), []),
    (
        "provider takes no action",
        recorded("right_not_exercised", ARISEN),
        [
            ("provider_takes_no_action", "transition", "no_action_taken"),
            ("provider_takes_no_action", "cancel_deadlines", "all"),
            ("provider_takes_no_action", "send_notice", "right_not_exercised"),
            ("provider_takes_no_action", "close", True),
        ],
    ),
    (
        "no-action decision during the cure period does nothing",
        recorded("right_not_exercised", RUNNING),
        [],
    ),
    ("a failed notice has no rule", {"event": "notice_failed", "state": RUNNING}, []),
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
def test_acceptable_use_violation_rules(registry, facts, expected) -> None:
    decisions = evaluate({**CASE, **facts}, registry)
    assert [(d.rule, d.action, d.value) for d in decisions] == expected


def test_every_rule_is_exercised_by_the_table(rulebook) -> None:
    fired = {rule for _, _, expected in TABLE for rule, _, _ in expected}
    assert fired == {rule.name for rule in rulebook.rules}


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
