"""The real termination-for-convenience rulebook, as a table of facts -> decisions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from contracts.terms import TermSheet
from rules.engine import evaluate
from rules.rulebook import Rulebook, RulebookRegistry, load_rulebook

REPO = Path(__file__).resolve().parents[2]
FILE = REPO / "rules" / "clauses" / "termination_for_convenience" / "rulebook.v1.yaml"
TERMS = REPO / "contracts" / "term_sheets" / "reference_msa.yaml"

RUNNING = "notice_period_running"
CASE = {"clause": "termination_for_convenience", "rulebook_version": 1, "given_by": "customer"}


def deadline(name: str, group: str, state: str) -> dict[str, Any]:
    return {"event": "deadline_reached", "deadline": name, "deadline_group": group, "state": state}


def recorded(fact: str, state: str) -> dict[str, Any]:
    return {"event": "fact_recorded", "fact": fact, "state": state}


REMIND = [("remind_owner_before_effective_date", "send_notice", "owner_reminder")]

TABLE: list[tuple[str, dict[str, Any], list[tuple[str, str, Any]]]] = [
    (
        "case started",
        {"event": "case_started"},
        [
            ("acknowledge_termination_notice", "transition", RUNNING),
            ("acknowledge_termination_notice", "set_deadlines", ["effective_date", "reminder"]),
            ("acknowledge_termination_notice", "send_notice", "acknowledgement"),
        ],
    ),
    ("reminder 60 days before", deadline("reminder_60", "reminder", RUNNING), REMIND),
    ("reminder 30 days before", deadline("reminder_30", "reminder", RUNNING), REMIND),
    ("reminder 7 days before", deadline("reminder_7", "reminder", RUNNING), REMIND),
    (
        "effective date reached while the notice period runs",
        deadline("effective_date", "effective_date", RUNNING),
        [
            ("termination_takes_effect", "transition", "terminated"),
            ("termination_takes_effect", "send_notice", "termination_effective"),
            ("termination_takes_effect", "close", True),
        ],
    ),
    (
        "effective date reached after withdrawal",
        deadline("effective_date", "effective_date", "withdrawn"),
        [],
    ),
    ("reminder after withdrawal", deadline("reminder_7", "reminder", "withdrawn"), []),
    (
        "withdrawal agreed while the notice period runs",
        recorded("withdrawal_agreed", RUNNING),
        [
            ("withdraw_by_mutual_agreement", "transition", "withdrawn"),
            ("withdraw_by_mutual_agreement", "cancel_deadlines", "all"),
            ("withdraw_by_mutual_agreement", "send_notice", "withdrawal_confirmed"),
            ("withdraw_by_mutual_agreement", "close", True),
        ],
    ),
    ("withdrawal recorded after termination", recorded("withdrawal_agreed", "terminated"), []),
    ("a failed notice has no rule", {"event": "notice_failed", "state": RUNNING}, []),
]


@pytest.fixture(scope="module")
def rulebook() -> Rulebook:
    return load_rulebook(FILE, check_templates=False)


@pytest.fixture(scope="module")
def registry(rulebook: Rulebook) -> RulebookRegistry:
    registry = RulebookRegistry(check_templates=False)
    registry.add(rulebook)
    return registry


@pytest.mark.parametrize(
    ("facts", "expected"), [row[1:] for row in TABLE], ids=[r[0] for r in TABLE]
)
def test_termination_rules(registry, facts, expected) -> None:
    decisions = evaluate({**CASE, **facts}, registry)
    assert [(d.rule, d.action, d.value) for d in decisions] == expected


def test_table_covers_every_reminder_of_the_reference_terms(rulebook) -> None:
    terms = TermSheet.model_validate(yaml.safe_load(TERMS.read_text(encoding="utf-8")))
    expanded = rulebook.expanded_deadlines(rulebook.parameter_values(terms))
    reminders = {name for name, d in expanded.items() if d.group == "reminder"}
    covered = {facts.get("deadline") for _, facts, expected in TABLE if expected == REMIND}
    assert reminders == covered == {"reminder_60", "reminder_30", "reminder_7"}


def test_every_rule_is_exercised_by_the_table() -> None:
    fired = {rule for _, _, expected in TABLE for rule, _, _ in expected}
    rulebook = load_rulebook(FILE, check_templates=False)
    assert fired == {rule.name for rule in rulebook.rules}
