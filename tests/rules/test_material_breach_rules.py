"""The real material-breach rulebook (MSA §10, §5), as a table of facts -> decisions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rules.engine import evaluate
from rules.rulebook import Rulebook, RulebookRegistry, load_rulebook

REPO = Path(__file__).resolve().parents[2]
FILE = REPO / "rules" / "clauses" / "material_breach" / "rulebook.v1.yaml"

RUNNING = "cure_period_running"
ARISEN = "termination_right_arisen"
# The calculator breach_basis always runs before the rules; "notice" is its default.
CASE = {
    "clause": "material_breach",
    "rulebook_version": 1,
    "given_by": "customer",
    "breach_basis": "notice",
}


def started(**facts: Any) -> dict[str, Any]:
    return {"event": "case_started", "state": "opened", **facts}


def deadline(name: str, state: str) -> dict[str, Any]:
    return {"event": "deadline_reached", "deadline": name, "deadline_group": name, "state": state}


def recorded(fact: str, state: str) -> dict[str, Any]:
    return {"event": "fact_recorded", "fact": fact, "state": state}


OPEN = [
    ("open_cure_period", "transition", RUNNING),
    ("open_cure_period", "set_deadlines", ["cure_period", "cure_reminder"]),
    ("open_cure_period", "send_notice", "breach_notice_recorded"),
]
LAPSE_REASON = (
    "The cure period ended without a recorded cure: the party that gave notice may "
    "terminate for cause. Decide, then record the termination or a signed waiver."
)
SLA_BY_PROVIDER = (
    "The case says the Provider gave notice of an SLA failure, but an SLA failure is the "
    "Provider's own breach (§5); check who gave the notice."
)
UNRECOGNISED = 'opened_by is neither "notice" nor "sla_failure"; check how this breach was raised.'

TABLE: list[tuple[str, dict[str, Any], list[tuple[str, str, Any]]]] = [
    ("notice of breach opens the cure period", started(), OPEN),
    ("notice by the provider opens the cure period", started(given_by="provider"), OPEN),
    (
        "sla failure notified by the customer opens the cure period without escalation",
        started(breach_basis="sla_failure"),
        OPEN,
    ),
    (
        "sla failure said to be notified by the provider is escalated",
        started(breach_basis="sla_failure", given_by="provider"),
        [*OPEN, ("flag_sla_breach_notified_by_provider", "escalate", SLA_BY_PROVIDER)],
    ),
    (
        "an unrecognised opened_by is escalated",
        started(breach_basis="unrecognised"),
        [*OPEN, ("flag_unrecognised_opening", "escalate", UNRECOGNISED)],
    ),
    (
        "owner reminded before the cure period ends",
        deadline("cure_reminder", RUNNING),
        [("remind_owner_before_cure_period_ends", "send_notice", "cure_reminder")],
    ),
    ("no reminder once the breach is cured", deadline("cure_reminder", "cured"), []),
    (
        "breach cured within the cure period closes the case",
        recorded("breach_cured", RUNNING),
        [
            ("breach_cured_within_cure_period", "transition", "cured"),
            ("breach_cured_within_cure_period", "cancel_deadlines", "all"),
            ("breach_cured_within_cure_period", "send_notice", "breach_cured"),
            ("breach_cured_within_cure_period", "close", True),
        ],
    ),
    ("cure recorded after the right arose does nothing", recorded("breach_cured", ARISEN), []),
    (
        "cure period lapses into the termination right",
        deadline("cure_period", RUNNING),
        [
            ("cure_period_lapses_into_termination_right", "transition", ARISEN),
            ("cure_period_lapses_into_termination_right", "set_deadlines", ["election_reminder"]),
            (
                "cure_period_lapses_into_termination_right",
                "send_notice",
                "termination_right_arisen",
            ),
            ("cure_period_lapses_into_termination_right", "escalate", LAPSE_REASON),
        ],
    ),
    ("cure period end after a cure does nothing", deadline("cure_period", "cured"), []),
    (
        "owner reminded to decide on the termination right",
        deadline("election_reminder", ARISEN),
        [("remind_owner_to_decide", "send_notice", "election_reminder")],
    ),
    (
        "no decision reminder after termination",
        deadline("election_reminder", "terminated_for_cause"),
        [],
    ),
    (
        "termination for cause exercised closes the case",
        recorded("termination_exercised", ARISEN),
        [
            ("termination_for_cause_exercised", "transition", "terminated_for_cause"),
            ("termination_for_cause_exercised", "cancel_deadlines", "all"),
            ("termination_for_cause_exercised", "send_notice", "termination_for_cause_confirmed"),
            ("termination_for_cause_exercised", "close", True),
        ],
    ),
    (
        "termination during the cure period does nothing",
        recorded("termination_exercised", RUNNING),
        [],
    ),
    (
        "signed waiver closes the case",
        recorded("right_waived", ARISEN),
        [
            ("termination_right_waived", "transition", "right_waived"),
            ("termination_right_waived", "cancel_deadlines", "all"),
            ("termination_right_waived", "send_notice", "right_waived"),
            ("termination_right_waived", "close", True),
        ],
    ),
    ("waiver during the cure period does nothing", recorded("right_waived", RUNNING), []),
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
def test_material_breach_rules(registry, facts, expected) -> None:
    decisions = evaluate({**CASE, **facts}, registry)
    assert [(d.rule, d.action, d.value) for d in decisions] == expected


def test_every_rule_is_exercised_by_the_table(rulebook) -> None:
    fired = {rule for _, _, expected in TABLE for rule, _, _ in expected}
    assert fired == {rule.name for rule in rulebook.rules}


def test_cure_can_only_be_recorded_while_the_cure_period_runs(rulebook) -> None:
    cured = rulebook.recordable_facts["breach_cured"]
    assert cured.allowed_in == [RUNNING]
    assert cured.allowed_before == "cure_period"
    assert {"evidence", "cured_on"} <= {n for n, f in cured.fields.items() if f.required}
    for fact in ("termination_exercised", "right_waived"):
        assert rulebook.recordable_facts[fact].allowed_in == [ARISEN]


def test_the_termination_right_waits_for_a_decision(rulebook) -> None:
    assert not rulebook.is_terminal(ARISEN)
    assert rulebook.states[ARISEN].expected_dwell_days
    for state in ("cured", "terminated_for_cause", "right_waived"):
        assert rulebook.is_terminal(state)


def test_cure_period_comes_from_the_termination_for_cause_terms(rulebook) -> None:
    assert (
        rulebook.parameters["cure_period_days"] == "clauses.termination_for_cause.cure_period_days"
    )
    assert rulebook.deadlines["cure_period"].period.unit == "calendar_days"
    assert rulebook.derive == ["breach_basis"]
