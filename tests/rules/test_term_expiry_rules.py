"""The real term-expiry rulebook, as a table of facts -> decisions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from contracts.terms import TermSheet
from rules.engine import evaluate
from rules.rulebook import Rulebook, RulebookRegistry, load_rulebook

REPO = Path(__file__).resolve().parents[2]
FILE = REPO / "rules" / "clauses" / "term_expiry" / "rulebook.v1.yaml"
TERMS = REPO / "contracts" / "term_sheets" / "reference_msa.yaml"

RUNNING = "term_running"
CASE = {
    "clause": "term_expiry",
    "rulebook_version": 1,
    "effective_date": "2037-03-01",
    "final_year_starts_on": "2039-03-01",
}


def deadline(name: str, group: str, state: str) -> dict[str, Any]:
    return {"event": "deadline_reached", "deadline": name, "deadline_group": group, "state": state}


def recorded(fact: str, state: str) -> dict[str, Any]:
    return {"event": "fact_recorded", "fact": fact, "state": state}


REMIND = [("remind_owner_before_expiry", "send_notice", "expiry_reminder")]

TABLE: list[tuple[str, dict[str, Any], list[tuple[str, str, Any]]]] = [
    (
        "case started: expiry and its reminders are set",
        {"event": "case_started"},
        [
            ("track_term", "transition", RUNNING),
            ("track_term", "set_deadlines", ["term_expiry", "expiry_reminder"]),
            ("track_term", "send_notice", "term_tracked"),
        ],
    ),
    (
        "reminder 180 days before",
        deadline("expiry_reminder_180", "expiry_reminder", RUNNING),
        REMIND,
    ),
    ("reminder 90 days before", deadline("expiry_reminder_90", "expiry_reminder", RUNNING), REMIND),
    ("reminder 30 days before", deadline("expiry_reminder_30", "expiry_reminder", RUNNING), REMIND),
    ("reminder after renewal", deadline("expiry_reminder_30", "expiry_reminder", "renewed"), []),
    (
        "the term expires",
        deadline("term_expiry", "term_expiry", RUNNING),
        [
            ("term_expires", "transition", "expired"),
            ("term_expires", "send_notice", "term_expired"),
            ("term_expires", "close", True),
        ],
    ),
    ("expiry after renewal", deadline("term_expiry", "term_expiry", "renewed"), []),
    (
        "renewed in writing before expiry",
        recorded("renewed", RUNNING),
        [
            ("renewed_in_writing", "transition", "renewed"),
            ("renewed_in_writing", "cancel_deadlines", "all"),
            ("renewed_in_writing", "send_notice", "renewal_confirmed"),
            ("renewed_in_writing", "close", True),
        ],
    ),
    ("renewal recorded after expiry", recorded("renewed", "expired"), []),
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
def test_term_expiry_rules(registry, facts, expected) -> None:
    decisions = evaluate({**CASE, **facts}, registry)
    assert [(d.rule, d.action, d.value) for d in decisions] == expected


def test_every_rule_is_exercised_by_the_table(rulebook) -> None:
    fired = {rule for _, _, expected in TABLE for rule, _, _ in expected}
    assert fired == {rule.name for rule in rulebook.rules}


def test_table_covers_every_reminder_of_the_reference_terms(rulebook) -> None:
    terms = TermSheet.model_validate(yaml.safe_load(TERMS.read_text(encoding="utf-8")))
    expanded = rulebook.expanded_deadlines(rulebook.parameter_values(terms))
    reminders = {name for name, d in expanded.items() if d.group == "expiry_reminder"}
    covered = {facts.get("deadline") for _, facts, expected in TABLE if expected == REMIND}
    assert (
        reminders == covered == {"expiry_reminder_180", "expiry_reminder_90", "expiry_reminder_30"}
    )


def test_expiry_counts_the_last_twelve_months_from_the_derived_fact(rulebook) -> None:
    expiry = rulebook.deadlines["term_expiry"]
    assert rulebook.derive == ["term_dates"]
    assert expiry.from_.fact == "final_year_starts_on"
    assert (expiry.period.count, expiry.period.unit) == (12, "months")
    assert expiry.ends == "start_of_day" and expiry.effective_roll == "none"
    assert rulebook.recordable_facts["renewed"].allowed_before == "term_expiry"
