"""Calculators of the service-level, security-breach and term clauses
(rules/clauses/*/calculators.py), with expected values worked by hand."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from contracts.terms import TermSheet
from rules.calculators import CalculationContext, DeadlineState
from tests.support.calculators import calculation_context
from tests.support.calculators import run_calculator as run
from workers.seed import reference_term_sheet

TERMS = reference_term_sheet()
UTC = dt.UTC
NOW = dt.datetime(2037, 12, 1, 15, tzinfo=UTC)


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, tzinfo=UTC)


def ctx(
    facts: dict[str, Any],
    recorded: list[tuple[str, dict[str, Any]]] = (),  # type: ignore[assignment]
    deadlines: dict[str, DeadlineState] | None = None,
    now: dt.datetime = NOW,
    terms: TermSheet = TERMS,
) -> CalculationContext:
    return calculation_context(
        facts=facts,
        recorded=[(f, v, now) for f, v in recorded],
        deadlines=deadlines,
        now=now,
        opened_at=NOW,
        terms=terms,
    )


def pending(due: dt.datetime, status: str = "pending") -> DeadlineState:
    return DeadlineState(due, None, status)


# --------------------------------------------------------------------------- maintenance


def test_maintenance_window_in_words_and_well_formed() -> None:
    # 06:00-10:00 UTC on Sat 5 Dec 2037 is 01:00-05:00 in New York (EST, UTC-5).
    out = run(
        "maintenance_window",
        ctx({"window_starts_at": "2037-12-05T06:00:00Z", "window_ends_at": "2037-12-05T10:00:00Z"}),
    )
    assert out["window_ends_after_start"] is True
    assert out["window_text"] == (
        "from Sat 5 Dec 2037 01:00 New York time to Sat 5 Dec 2037 05:00 New York time"
    )


@pytest.mark.parametrize("ends", ["2037-12-05T06:00:00Z", "2037-12-05T05:00:00Z"])
def test_maintenance_window_that_does_not_end_after_it_starts(ends: str) -> None:
    out = run(
        "maintenance_window",
        ctx({"window_starts_at": "2037-12-05T06:00:00Z", "window_ends_at": ends}),
    )
    assert out["window_ends_after_start"] is False


# --------------------------------------------------------------------------- breach


def test_breach_notification_unknown_until_recorded() -> None:
    deadlines = {"notification_due": pending(at(2037, 12, 4, 15))}
    assert run("breach_notification", ctx({}, [], deadlines)) == {"customer_notified_in_time": None}


@pytest.mark.parametrize(
    ("notified_at", "in_time"),
    [
        ("2037-12-04T15:00:00Z", True),  # exactly at the deadline still counts
        ("2037-12-04T15:00:01Z", False),
        ("2037-12-02T09:00:00-05:00", True),
    ],
)
def test_breach_notification_judged_against_the_deadline(notified_at: str, in_time: bool) -> None:
    deadlines = {"notification_due": pending(at(2037, 12, 4, 15), "reached")}
    out = run(
        "breach_notification",
        ctx({}, [("customer_notified", {"notified_at": notified_at})], deadlines),
    )
    assert out == {"customer_notified_in_time": in_time}


# --------------------------------------------------------------------------- incident


# The targets of an incident reported outside business hours: a response by 19:00 UTC on
# 1 Dec, a resolution by 15:00 UTC on 2 Dec.
OUTSIDE_HOURS_TARGETS = {
    "response_due_outside": pending(at(2037, 12, 1, 19)),
    "resolution_due": pending(at(2037, 12, 2, 15)),
}


def incident(
    deadlines: dict[str, DeadlineState],
    *recorded: tuple[str, dict[str, Any]],
    now: dt.datetime = NOW,
) -> dict[str, Any]:
    return run("incident_targets", ctx({}, list(recorded), deadlines, now=now))


def test_incident_targets_before_anything_is_recorded() -> None:
    assert incident(OUTSIDE_HOURS_TARGETS) == {
        "response_in_time": None,
        "resolution_in_time": None,
        "resolution_target_passed": False,
    }


def test_incident_response_judged_against_the_business_hour_target() -> None:
    deadlines = {
        "response_due_business": pending(at(2037, 12, 1, 17)),
        "resolution_due": pending(at(2037, 12, 2, 15)),
    }
    early = incident(deadlines, ("responded", {"responded_at": "2037-12-01T16:59:00Z"}))
    late = incident(deadlines, ("responded", {"responded_at": "2037-12-01T17:01:00Z"}))
    assert early["response_in_time"] is True and late["response_in_time"] is False


def test_a_resolution_without_a_response_counts_as_the_response() -> None:
    out = incident(OUTSIDE_HOURS_TARGETS, ("resolved", {"resolved_at": "2037-12-01T18:00:00Z"}))
    assert out["response_in_time"] is True and out["resolution_in_time"] is True


def test_the_extended_target_replaces_the_original() -> None:
    deadlines = {
        "response_due_outside": pending(at(2037, 12, 1, 19), "cancelled"),
        "resolution_due": pending(at(2037, 12, 2, 15), "cancelled"),
        "extended_resolution_due": pending(at(2037, 12, 5, 15)),
    }
    # Resolved on 3 Dec: after the original 24 hours, before the extended time.
    out = incident(
        deadlines,
        ("responded", {"responded_at": "2037-12-01T16:00:00Z"}),
        ("resolution_extended", {"extended_until": "2037-12-05T15:00:00Z"}),
        ("resolved", {"resolved_at": "2037-12-03T15:00:00Z"}),
        now=at(2037, 12, 3, 16),
    )
    assert out == {
        "response_in_time": True,
        "resolution_in_time": True,
        "resolution_target_passed": False,
    }


def test_a_cancelled_extension_falls_back_to_the_original_target() -> None:
    deadlines = {
        "resolution_due": pending(at(2037, 12, 2, 15)),
        "extended_resolution_due": pending(at(2037, 12, 5, 15), "cancelled"),
    }
    out = incident(deadlines, now=at(2037, 12, 2, 15))
    assert out["resolution_target_passed"] is True


# --------------------------------------------------------------------------- term


def test_term_dates_for_a_three_year_term() -> None:
    # Effective Sun 1 Mar 2037; 3 years: the last contract year starts 1 Mar 2039; the
    # term's last day is the day before the third anniversary, 29 Feb 2040 (a leap year).
    out = run("term_dates", ctx({"effective_date": "2037-03-01"}))
    assert out == {
        "final_year_starts_on": "2039-03-01",
        "term_years": 3,
        "term_last_day_text": "Wed 29 Feb 2040",
    }


def test_term_dates_follow_the_term_sheet() -> None:
    # A 5-year term from 15 Jul 2037: the last year starts 15 Jul 2041; the last day is
    # 14 Jul 2042.
    terms = TERMS.model_copy(
        update={
            "clauses": TERMS.clauses.model_copy(
                update={"term": TERMS.clauses.term.model_copy(update={"term_years": 5})}
            )
        }
    )
    out = run("term_dates", ctx({"effective_date": "2037-07-15"}, terms=terms))
    assert out["final_year_starts_on"] == "2041-07-15"
    assert out["term_years"] == 5
    assert out["term_last_day_text"] == "Mon 14 Jul 2042"


def test_term_dates_from_a_leap_day() -> None:
    # 29 Feb 2036 + 2 years has no 29 February: the last year starts 28 Feb 2038; the
    # third anniversary is 28 Feb 2039, so the last day is 27 Feb 2039.
    out = run("term_dates", ctx({"effective_date": "2036-02-29"}))
    assert out["final_year_starts_on"] == "2038-02-28"
    assert out["term_last_day_text"] == "Sun 27 Feb 2039"
