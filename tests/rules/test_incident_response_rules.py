"""The real incident-response rulebook, as a table of facts -> decisions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rules.engine import evaluate
from rules.rulebook import Rulebook, RulebookRegistry, load_rulebook

REPO = Path(__file__).resolve().parents[2]
FILE = REPO / "rules" / "clauses" / "incident_response" / "rulebook.v1.yaml"

RESPONSE = "awaiting_response"
RESOLUTION = "awaiting_resolution"
EXTENDED = "resolution_extended"
CASE = {
    "clause": "incident_response",
    "rulebook_version": 1,
    "reported_at": "2037-12-01T15:00:00Z",
    "severity": "high",
    "description": "Calls drop after 30 seconds",
}
NO_RESPONSE = "The Provider has not responded to the incident within the response target."
NOT_RESOLVED = "The incident has not been resolved within the resolution target in force."
LATE_EXTENSION = (
    "The resolution target was extended only after it had already passed; check that the "
    "extension was agreed and whether the missed target still counts."
)


def started(in_business_hours: bool) -> dict[str, Any]:
    return {"event": "case_started", "reported_in_business_hours": in_business_hours}


def deadline(name: str, state: str) -> dict[str, Any]:
    return {"event": "deadline_reached", "deadline": name, "deadline_group": name, "state": state}


def recorded(fact: str, state: str, **flags: Any) -> dict[str, Any]:
    return {"event": "fact_recorded", "fact": fact, "state": state, **flags}


LOG = [
    ("log_incident", "transition", RESPONSE),
    ("log_incident", "set_deadlines", ["resolution_due"]),
    ("log_incident", "send_notice", "incident_logged"),
]
RESPONSE_MISSED = [
    ("response_target_missed", "record", {"response_target_missed": True}),
    ("response_target_missed", "escalate", NO_RESPONSE),
    ("response_target_missed", "send_notice", "response_overdue"),
]
RESOLUTION_MISSED = [
    ("resolution_target_missed", "record", {"resolution_target_missed": True}),
    ("resolution_target_missed", "escalate", NOT_RESOLVED),
    ("resolution_target_missed", "send_notice", "resolution_overdue"),
]
RESPONDED = [
    ("response_recorded", "transition", RESOLUTION),
    ("response_recorded", "cancel_deadlines", ["response_due_business", "response_due_outside"]),
]
EXTEND = [
    ("extend_resolution_for_third_party", "transition", EXTENDED),
    (
        "extend_resolution_for_third_party",
        "cancel_deadlines",
        ["resolution_due", "extended_resolution_due"],
    ),
    ("extend_resolution_for_third_party", "set_deadlines", ["extended_resolution_due"]),
    ("extend_resolution_for_third_party", "send_notice", "resolution_extended"),
]
RESOLVE = [
    ("incident_resolved", "transition", "resolved"),
    ("incident_resolved", "send_notice", "incident_resolved"),
    ("incident_resolved", "close", True),
]
RESOLVED_IN_TIME = [("resolution_met_target", "record", {"resolution_target_missed": False})]
RESOLVED_LATE = [("resolution_after_target", "record", {"resolution_target_missed": True})]

TABLE: list[tuple[str, dict[str, Any], list[tuple[str, str, Any]]]] = [
    (
        "reported during business hours: business-hour response target",
        started(True),
        [*LOG, ("response_target_in_business_hours", "set_deadlines", ["response_due_business"])],
    ),
    (
        "reported outside business hours: elapsed-hour response target",
        started(False),
        [
            *LOG,
            ("response_target_outside_business_hours", "set_deadlines", ["response_due_outside"]),
        ],
    ),
    (
        "business-hour response target missed",
        deadline("response_due_business", RESPONSE),
        RESPONSE_MISSED,
    ),
    (
        "elapsed-hour response target missed",
        deadline("response_due_outside", RESPONSE),
        RESPONSE_MISSED,
    ),
    ("response target after the response", deadline("response_due_outside", RESOLUTION), []),
    (
        "responded in time",
        recorded("responded", RESPONSE, response_in_time=True),
        [*RESPONDED, ("response_met_target", "record", {"response_target_missed": False})],
    ),
    (
        "responded after the target",
        recorded("responded", RESPONSE, response_in_time=False),
        [*RESPONDED, ("response_after_target", "record", {"response_target_missed": True})],
    ),
    ("response recorded twice", recorded("responded", RESOLUTION, response_in_time=True), []),
    (
        "resolution target missed before any response",
        deadline("resolution_due", RESPONSE),
        RESOLUTION_MISSED,
    ),
    (
        "resolution target missed after the response",
        deadline("resolution_due", RESOLUTION),
        RESOLUTION_MISSED,
    ),
    (
        "extended resolution target missed",
        deadline("extended_resolution_due", EXTENDED),
        RESOLUTION_MISSED,
    ),
    ("resolution target after resolution", deadline("resolution_due", "resolved"), []),
    (
        "extension agreed before the target passed",
        recorded("resolution_extended", RESOLUTION, resolution_target_passed=False),
        EXTEND,
    ),
    (
        "a second extension replaces the first",
        recorded("resolution_extended", EXTENDED, resolution_target_passed=False),
        EXTEND,
    ),
    (
        "extension recorded after the target passed is applied and escalated",
        recorded("resolution_extended", RESOLUTION, resolution_target_passed=True),
        [*EXTEND, ("extension_after_target_passed", "escalate", LATE_EXTENSION)],
    ),
    (
        "extension before any response does nothing",
        recorded("resolution_extended", RESPONSE, resolution_target_passed=False),
        [],
    ),
    (
        "resolved in time after the response",
        recorded("resolved", RESOLUTION, resolution_in_time=True),
        [*RESOLVE, *RESOLVED_IN_TIME],
    ),
    (
        "resolved late under an extension",
        recorded("resolved", EXTENDED, resolution_in_time=False),
        [*RESOLVE, *RESOLVED_LATE],
    ),
    (
        "resolved before any response: the resolution is the response",
        recorded("resolved", RESPONSE, response_in_time=True, resolution_in_time=True),
        [
            ("response_met_target", "record", {"response_target_missed": False}),
            *RESOLVE,
            *RESOLVED_IN_TIME,
        ],
    ),
    (
        "resolved late with no response at all",
        recorded("resolved", RESPONSE, response_in_time=False, resolution_in_time=False),
        [
            ("response_after_target", "record", {"response_target_missed": True}),
            *RESOLVE,
            *RESOLVED_LATE,
        ],
    ),
    (
        "resolved recorded on a closed case",
        recorded("resolved", "resolved", resolution_in_time=True),
        [],
    ),
    ("a failed notice has no rule", {"event": "notice_failed", "state": RESPONSE}, []),
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
def test_incident_response_rules(registry, facts, expected) -> None:
    decisions = evaluate({**CASE, **facts}, registry)
    assert [(d.rule, d.action, d.value) for d in decisions] == expected


def test_every_rule_is_exercised_by_the_table(rulebook) -> None:
    fired = {rule for _, _, expected in TABLE for rule, _, _ in expected}
    assert fired == {rule.name for rule in rulebook.rules}


def test_targets_use_the_units_the_exhibit_names(rulebook) -> None:
    units = {name: d.period.unit for name, d in rulebook.deadlines.items()}
    assert units["response_due_business"] == "business_hours"
    assert units["response_due_outside"] == "hours"
    assert units["resolution_due"] == "hours"
    # The extension lands exactly on the recorded extended_until: zero elapsed hours.
    extended = rulebook.deadlines["extended_resolution_due"]
    assert (extended.from_.fact, extended.from_.deadline) == ("extended_until", None)
    assert (extended.direction, extended.period.count, units["extended_resolution_due"]) == (
        "after",
        0,
        "hours",
    )
    assert set(units) == {
        "response_due_business",
        "response_due_outside",
        "resolution_due",
        "extended_resolution_due",
    }


def test_extended_until_is_recorded_not_a_start_fact(rulebook) -> None:
    assert "extended_until" not in rulebook.facts
    field = rulebook.recordable_facts["resolution_extended"].fields["extended_until"]
    assert (field.type, field.required) == ("datetime", True)
