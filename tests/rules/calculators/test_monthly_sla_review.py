"""The monthly service credit, computed from facts recorded into the review case."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from rules.calculators import CalculationContext, DeadlineState
from rules.clauses.monthly_sla_review.calculators import final_part_month, monthly_service_credit
from tests.support.calculators import calculation_context

UTC = dt.UTC
MONTH_END = DeadlineState(  # the end of November 2037 in New York
    due_at=dt.datetime(2037, 12, 1, 5, tzinfo=UTC), last_day=dt.date(2037, 12, 1), status="pending"
)


def ctx(*recorded: tuple[str, dict[str, Any]]) -> CalculationContext:
    at = dt.datetime(2037, 11, 15, tzinfo=UTC)
    return calculation_context(
        recorded=[(f, v, at) for f, v in recorded], deadlines={"month_end": MONTH_END}, now=at
    )


def downtime(started_at: str, ended_at: str) -> tuple[str, dict[str, Any]]:
    return ("downtime_recorded", {"started_at": started_at, "ended_at": ended_at})


def window(starts_at: str, ends_at: str, notice_given_at: str) -> tuple[str, dict[str, Any]]:
    values = {"starts_at": starts_at, "ends_at": ends_at, "notice_given_at": notice_given_at}
    return ("maintenance_window_recorded", values)


def test_a_month_without_downtime_earns_no_credit() -> None:
    out = monthly_service_credit(ctx())
    assert out["review_month"] == "November 2037"
    assert out["uptime_percent"] == "100.0000" and out["credit_due"] is False
    assert out["credit_amount"] == "0.00"


def test_eight_hours_down_in_november_earns_a_pro_rata_credit() -> None:
    # November 2037 has 30 days = 43,200 minutes, plus the hour the clocks fall back on
    # Sun 1 Nov 2037 in New York: 43,260 real minutes. 480 minutes down:
    # uptime = (43,260 - 480) / 43,260
    # = 98.8904%. Points below 99.9 = 1.0096, pro rata: 1.0096% of 25,000.00 = 252.40.
    out = monthly_service_credit(ctx(downtime("2037-11-10T14:00:00Z", "2037-11-10T22:00:00Z")))
    assert out["uptime_percent"] == "98.8904"
    assert out["credit_amount"] == "252.40"
    assert out["credit_due"] is True


def test_a_maintenance_window_noticed_in_time_is_excluded() -> None:
    noticed = "2037-11-16T06:00:00Z"  # 96 hours ahead
    out = monthly_service_credit(
        ctx(window("2037-11-20T06:00:00Z", "2037-11-20T10:00:00Z", noticed))
    )
    assert out["uptime_percent"] == "100.0000" and out["windows_not_excluded"] == 0
    assert out["excluded_minutes"].startswith("240")


def test_a_window_noticed_late_counts_as_downtime() -> None:
    noticed = "2037-11-18T06:00:00Z"  # 48 hours: less than 72
    out = monthly_service_credit(
        ctx(window("2037-11-20T06:00:00Z", "2037-11-20T10:00:00Z", noticed))
    )
    # 240 minutes down of 43,260: uptime 99.4452%, 0.4548 points -> 113.70.
    assert out["uptime_percent"] == "99.4452"
    assert out["credit_amount"] == "113.70"
    assert out["windows_not_excluded"] == 1
    assert "count as downtime" in out["sla_explanation"]


def test_the_credit_is_capped_at_half_the_monthly_fee() -> None:
    out = monthly_service_credit(ctx(downtime("2037-11-01T05:00:00Z", "2037-11-30T05:00:00Z")))
    assert out["credit_amount"] == "12500.00" and Decimal(out["credit_percent"]) == 50


def test_a_downtime_record_that_ends_before_it_starts_is_ignored_and_said() -> None:
    out = monthly_service_credit(ctx(downtime("2037-11-10T22:00:00Z", "2037-11-10T14:00:00Z")))
    assert out["uptime_percent"] == "100.0000"
    assert "ends before it starts" in out["sla_explanation"]


def ended(**values: str) -> tuple[str, dict[str, Any]]:
    return ("review_ended", values)


OUTAGE = downtime("2037-11-10T14:00:00Z", "2037-11-10T22:00:00Z")


def test_an_agreement_ending_inside_the_month_has_that_part_month_reviewed() -> None:
    # Ended at the start of Mon 16 Nov 2037 in New York: 1 to 15 November, 15 days plus the
    # hour the clocks fell back = 21,660 minutes. 480 down: 97.7839%, 2.1161 points under
    # 99.9. The credit is on the fee for 15 of 30 days (12,500.00): 264.51.
    out = final_part_month(
        ctx(OUTAGE, ended(ended_on="2037-11-16", ended_at="2037-11-16T05:00:00Z"))
    )
    assert out["final_part_month"] is True
    assert out["review_month"] == "1 to 15 November 2037"
    assert out["review_month_start"] == "2037-11-01"
    assert out["uptime_percent"] == "97.7839"
    assert out["credit_amount"] == "264.51" and out["credit_due"] is True
    assert "up to the agreement's end: 21,660 minutes" in out["sla_explanation"]
    assert "12,500.00" in out["sla_explanation"]


def test_without_the_instant_the_part_month_runs_to_the_start_of_the_day_it_ended() -> None:
    out = final_part_month(ctx(OUTAGE, ended(ended_on="2037-11-16")))
    assert (out["uptime_percent"], out["credit_amount"]) == ("97.7839", "264.51")


def test_an_end_during_a_day_counts_that_day_in_the_fee_and_the_minutes() -> None:
    # Noon on 16 Nov: 21,660 + 720 minutes, 16 of 30 days of the fee (13,333.33).
    out = final_part_month(
        ctx(OUTAGE, ended(ended_on="2037-11-16", ended_at="2037-11-16T17:00:00Z"))
    )
    assert out["review_month"] == "1 to 16 November 2037"
    assert (out["uptime_percent"], out["credit_amount"]) == ("97.8552", "272.64")


def test_an_end_as_the_month_began_leaves_nothing_to_review() -> None:
    out = final_part_month(ctx(ended(ended_on="2037-11-01", ended_at="2037-11-01T04:00:00Z")))
    assert out == {"final_part_month": False}


def test_before_the_reviews_end_the_month_is_the_whole_months() -> None:
    assert final_part_month(ctx(OUTAGE)) == {}


def test_a_part_month_of_one_day_is_named_by_that_day() -> None:
    out = final_part_month(ctx(ended(ended_on="2037-11-01", ended_at="2037-11-01T17:00:00Z")))
    assert out["review_month"] == "1 November 2037"
