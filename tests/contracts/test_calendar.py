"""The deadline calendar: NY GCL §§ 20, 24 and 25, time zones, DST and business hours."""

from __future__ import annotations

from calendar import monthrange
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from contracts.calendar import (
    Anchor,
    ComputedDeadline,
    ContractCalendar,
    DeadlineRule,
    Period,
    _add_months,
    calendar_for,
    compute_deadline,
    describe_day,
    describe_deadline,
    describe_instant,
    ends_its_last_day,
)
from contracts.terms import TermSheet
from tests.contracts.helpers import notice_deadline

NY = ZoneInfo("America/New_York")
CAL = ContractCalendar()


def ny(y: int, m: int, d: int, hh: int = 10, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=NY)


def d(text: str) -> date:
    return date.fromisoformat(text)


def compute(
    at: datetime,
    count: int,
    unit: str = "calendar_days",
    calendar: ContractCalendar = CAL,
    day: date | None = None,
    **rule: object,
) -> ComputedDeadline:
    return notice_deadline(calendar, count, unit, at, day=day, **rule)


# --------------------------------------------------------------------------- the reference case


def test_reference_case_90_days_from_1_december_2026() -> None:
    result = compute_deadline(
        CAL,
        DeadlineRule(
            Period(90, "calendar_days"),
            ends="start_of_day",
            label="Termination takes effect",
            clause_ref="MSA §10",
        ),
        Anchor(ny(2026, 12, 1, 10), "the termination notice was received"),
    )
    assert result.last_day == date(2027, 3, 1)
    assert result.due_at == datetime(2027, 3, 1, 5, 0, tzinfo=UTC)
    assert result.due_at.tzinfo is UTC
    assert result.local_due == ny(2027, 3, 1, 0)
    assert result.local_due.tzinfo == NY
    assert result.explanation == (
        "Event: the termination notice was received at Tue 1 Dec 2026 10:00 New York time"
        " (Tue 1 Dec 2026 15:00 UTC).",
        "Rule (MSA §10): Termination takes effect 90 calendar days after the termination"
        " notice was received.",
        "Under NY GCL § 20 the event day, Tue 1 Dec 2026, is excluded from the count; day 1"
        " is Wed 2 Dec 2026 and day 90 is Mon 1 Mar 2027.",
        "Mon 1 Mar 2027 is a business day, so the period ends that day.",
        "Termination takes effect: at the start of Mon 1 Mar 2027: Mon 1 Mar 2027 00:00"
        " New York time (Mon 1 Mar 2027 05:00 UTC).",
    )
    assert result.explanation_text == "\n".join(result.explanation)


# --------------------------------------------------------------------------- § 20 and § 25


# (case, event (local), count, expected last day after the § 25 roll)
CALENDAR_DAY_CASES = [
    ("ten_days_from_wednesday", ny(2026, 12, 2), 10, "2026-12-14"),  # Sat 12 -> Mon 14
    ("one_day_is_the_next_day", ny(2026, 12, 1), 1, "2026-12-02"),
    ("weekend_rolls_to_monday", ny(2026, 12, 31), 30, "2027-02-01"),  # Sat 30 Jan 2027
    ("christmas_friday_2026_rolls_to_monday", ny(2026, 11, 25), 30, "2026-12-28"),
    ("lincoln_weekend_washington_chain_2027", ny(2027, 2, 9), 3, "2027-02-16"),
    ("sunday_holiday_observed_monday_chain", ny(2027, 6, 3), 30, "2027-07-06"),  # Sat 3 Jul
    ("christmas_sunday_2022_observed_monday", ny(2022, 11, 25), 30, "2022-12-27"),
    ("election_day_2026", ny(2026, 10, 4), 30, "2026-11-04"),
    ("election_day_odd_year_2027", ny(2027, 10, 3), 30, "2027-11-03"),
    ("no_saturday_to_friday_shift_3_july_2026", ny(2026, 6, 3), 30, "2026-07-03"),
    ("saturday_holiday_rolls_past_weekend_only", ny(2026, 6, 4), 30, "2026-07-06"),
    ("christmas_eve_2027_is_business_day", ny(2027, 11, 24), 30, "2027-12-24"),
    ("christmas_saturday_2027_no_monday_holiday", ny(2027, 11, 24), 31, "2027-12-27"),
    ("flag_day_sunday_no_monday_holiday", ny(2026, 5, 15), 30, "2026-06-15"),
    ("juneteenth_friday_2026", ny(2026, 5, 20), 30, "2026-06-22"),
    ("leap_year_february_has_29_days", ny(2028, 2, 1), 30, "2028-03-02"),
    ("non_leap_year_february_has_28_days", ny(2027, 2, 1), 30, "2027-03-03"),
    ("leap_day_is_a_day", ny(2028, 1, 30), 30, "2028-02-29"),
]


@pytest.mark.parametrize(
    ("event", "count", "expected"),
    [c[1:] for c in CALENDAR_DAY_CASES],
    ids=[c[0] for c in CALENDAR_DAY_CASES],
)
def test_calendar_days_exclude_event_day_and_roll_forward(
    event: datetime, count: int, expected: str
) -> None:
    result = compute(event, count)
    assert result.last_day == d(expected)
    # end of the last day = local midnight starting the next day
    assert result.local_due == datetime.combine(d(expected) + timedelta(days=1), time(0), NY)


def test_hes_transportation_oracle_10_days_from_17_may_1933() -> None:
    # H.E.S. Transportation v. Checker Cab (1936): a § 20 count only. 27 May 1933 was a
    # Saturday, which today's § 25 would extend, so the oracle is checked without a roll.
    result = compute(ny(1933, 5, 17, 12), 10, roll="none")
    assert result.last_day == date(1933, 5, 27)
    assert result.local_due == datetime(1933, 5, 28, 0, 0, tzinfo=NY)  # midnight ending 27 May


def test_cit_v_joffe_sunday_tenth_day_makes_monday_morning_sale_too_early() -> None:
    # Notice received 19 Jul 1934; day 10 was Sunday 29 Jul; the sale at 10:15 on Monday
    # 30 Jul came before the period had run.
    result = compute(ny(1934, 7, 19, 12), 10)
    assert result.last_day == date(1934, 7, 30)
    assert ny(1934, 7, 30, 10, 15) < result.due_at


@pytest.mark.parametrize(
    ("case", "instant", "expected_last_day"),
    [
        ("new_york_2330_counts_from_1_dec", ny(2026, 12, 1, 23, 30), "2026-12-11"),
        ("same_instant_given_in_utc", datetime(2026, 12, 2, 4, 30, tzinfo=UTC), "2026-12-11"),
        ("just_after_local_midnight", ny(2026, 12, 2, 0, 1), "2026-12-14"),  # Sat 12 -> Mon
    ],
)
def test_event_day_is_the_local_date_in_the_contract_zone(
    case: str, instant: datetime, expected_last_day: str
) -> None:
    assert compute(instant, 10).last_day == d(expected_last_day)


def test_utc_calendar_would_count_the_2330_event_from_the_next_day() -> None:
    # Contrast: the same instant under a UTC contract starts from 2 Dec, so the local zone
    # matters (10 days -> Sat 12 Dec -> Mon 14 Dec).
    utc_calendar = ContractCalendar(time_zone="UTC")
    assert compute(ny(2026, 12, 1, 23, 30), 10, calendar=utc_calendar).last_day == d("2026-12-14")


def test_late_event_explanation_shows_utc_date_and_local_event_day() -> None:
    text = compute(ny(2026, 12, 1, 23, 30), 10).explanation_text
    assert "Tue 1 Dec 2026 23:30 New York time" in text
    assert "In UTC that is Wed 2 Dec 2026 04:30 UTC" in text
    assert "so the event day is Tue 1 Dec 2026" in text
    assert "the event day, Tue 1 Dec 2026, is excluded" in text


# (case, event, count, direction, expected) for a two-day period (§ 20 second sentence)
TWO_DAY_CASES = [
    ("friday_event_weekend_left_out", ny(2026, 12, 4), "after", "2026-12-08"),
    ("thursday_event_saturday_is_last_day_so_25_rolls", ny(2026, 12, 3), "after", "2026-12-07"),
    ("wednesday_event_no_intervening_day", ny(2026, 12, 2), "after", "2026-12-04"),
    ("holiday_weekend_holiday_left_out", ny(2027, 2, 11), "after", "2027-02-17"),
]


@pytest.mark.parametrize(
    ("event", "direction", "expected"),
    [c[1:] for c in TWO_DAY_CASES],
    ids=[c[0] for c in TWO_DAY_CASES],
)
def test_two_day_period_leaves_out_intervening_non_business_days(
    event: datetime, direction: str, expected: str
) -> None:
    assert compute(event, 2, direction=direction).last_day == d(expected)


def test_two_day_rule_is_explained() -> None:
    text = compute(ny(2026, 12, 4), 2).explanation_text
    assert "period of two days" in text
    assert "Sat 5 Dec 2026 (Saturday) and Sun 6 Dec 2026 (Sunday) are left out" in text


def test_three_day_period_does_not_leave_out_intervening_days() -> None:
    # Fri + 3 = Mon; the weekend is counted.
    assert compute(ny(2026, 12, 4), 3).last_day == d("2026-12-07")


def test_appointed_day_extends_a_holiday_weekend_chain() -> None:
    # Thanksgiving 2026 (Thu 26 Nov), an appointed Fri 27 Nov, the weekend -> Mon 30 Nov.
    with_appointed = ContractCalendar(extra_holidays=(date(2026, 11, 27),))
    assert compute(ny(2026, 10, 27), 30, calendar=with_appointed).last_day == d("2026-11-30")
    assert compute(ny(2026, 10, 27), 30).last_day == d("2026-11-27")


def test_weekends_only_calendar_ignores_public_holidays() -> None:
    plain = ContractCalendar(holidays="none")
    assert compute(ny(2026, 11, 25), 30, calendar=plain).last_day == d("2026-12-25")
    assert compute(ny(2026, 12, 31), 30, calendar=plain).last_day == d("2027-02-01")


# --------------------------------------------------------------------------- roll modes


@pytest.mark.parametrize(
    ("case", "event", "count", "direction", "roll", "expected"),
    [
        ("none_keeps_saturday", ny(2026, 12, 31), 30, "after", "none", "2027-01-30"),
        ("none_keeps_christmas", ny(2026, 11, 25), 30, "after", "none", "2026-12-25"),
        ("forward_saturday", ny(2026, 12, 31), 30, "after", "forward", "2027-02-01"),
        ("backward_saturday", ny(2026, 12, 31), 30, "after", "backward", "2027-01-29"),
        ("before_backward_saturday", ny(2027, 3, 1), 30, "before", "backward", "2027-01-29"),
        ("before_forward_saturday", ny(2027, 3, 1), 30, "before", "forward", "2027-02-01"),
        # Mon 15 Feb (Washington), weekend, Fri 12 Feb (Lincoln) -> Thu 11 Feb
        ("backward_holiday_chain", ny(2027, 2, 22), 7, "before", "backward", "2027-02-11"),
        ("before_business_day_no_roll", ny(2027, 3, 1), 7, "before", "backward", "2027-02-22"),
    ],
)
def test_roll_modes(
    case: str, event: datetime, count: int, direction: str, roll: str, expected: str
) -> None:
    assert compute(event, count, direction=direction, roll=roll).last_day == d(expected)


def test_time_of_the_essence_explanation_says_no_extension() -> None:
    text = compute(ny(2026, 12, 31), 30, roll="none").explanation_text
    assert "Sat 30 Jan 2027 is a Saturday, but the clause makes time of the essence" in text
    assert "NY GCL § 25 does not apply" in text
    assert "runs to the next business day." not in text


def test_backward_roll_explanation_names_each_day() -> None:
    text = compute(ny(2027, 2, 22), 7, direction="before", roll="backward").explanation_text
    for line in (
        "Mon 15 Feb 2027 is Washington's Birthday (public holiday, NY GCL § 24), so under"
        " this rule the day moves back to the previous business day.",
        "Sun 14 Feb 2027 is a Sunday, so under this rule",
        "Sat 13 Feb 2027 is a Saturday, so under this rule",
        "Fri 12 Feb 2027 is Lincoln's Birthday (public holiday, NY GCL § 24), so under this rule",
        "The period therefore ends on Thu 11 Feb 2027.",
    ):
        assert line in text
    assert "day 1 is Sun 21 Feb 2027" in text  # counting back


# --------------------------------------------------------------------------- explanation


def test_explanation_lists_each_roll_step_with_its_reason() -> None:
    result = compute(ny(2027, 2, 9), 3, clause_ref="MSA §3", label="Payment is due")
    assert result.explanation[1] == (
        "Rule (MSA §3): Payment is due 3 calendar days after the notice was received."
    )
    assert result.explanation[2:] == (
        "Under NY GCL § 20 the event day, Tue 9 Feb 2027, is excluded from the count; day 1 is"
        " Wed 10 Feb 2027 and day 3 is Fri 12 Feb 2027.",
        "Fri 12 Feb 2027 is Lincoln's Birthday (public holiday, NY GCL § 24), so under NY GCL"
        " § 25 the period runs to the next business day.",
        "Sat 13 Feb 2027 is a Saturday, so under NY GCL § 25 the period runs to the next"
        " business day.",
        "Sun 14 Feb 2027 is a Sunday, so under NY GCL § 25 the period runs to the next"
        " business day.",
        "Mon 15 Feb 2027 is Washington's Birthday (public holiday, NY GCL § 24), so under NY GCL"
        " § 25 the period runs to the next business day.",
        "The period therefore ends on Tue 16 Feb 2027.",
        "Payment is due: at the end of Tue 16 Feb 2027 (midnight): Wed 17 Feb 2027 00:00"
        " New York time (Wed 17 Feb 2027 05:00 UTC).",
    )


def test_explanation_names_sunday_holiday_and_its_observed_monday() -> None:
    text = compute(ny(2027, 6, 3), 30).explanation_text
    assert "Sun 4 Jul 2027 is a Sunday and Independence Day (public holiday, NY GCL § 24)" in text
    assert "Mon 5 Jul 2027 is Independence Day (observed Monday; 4 Jul is a Sunday)" in text
    assert "The period therefore ends on Tue 6 Jul 2027." in text


def test_explanation_names_election_day() -> None:
    text = compute(ny(2026, 10, 4), 30).explanation_text
    assert "Tue 3 Nov 2026 is Election Day (public holiday, NY GCL § 24)" in text


# --------------------------------------------------------------------------- business days


@pytest.mark.parametrize(
    ("case", "event", "count", "direction", "expected"),
    [
        ("friday_plus_one_is_monday", ny(2026, 12, 4), 1, "after", "2026-12-07"),
        ("skips_christmas_and_new_year", ny(2026, 12, 20), 10, "after", "2027-01-05"),
        ("skips_lincoln_weekend_washington", ny(2027, 2, 11), 1, "after", "2027-02-16"),
        ("skips_election_day", ny(2026, 11, 2), 1, "after", "2026-11-04"),
        ("before_monday_is_friday", ny(2026, 12, 7), 1, "before", "2026-12-04"),
        ("five_from_saturday", ny(2026, 12, 5), 5, "after", "2026-12-11"),
    ],
)
def test_business_days_count_only_business_days(
    case: str, event: datetime, count: int, direction: str, expected: str
) -> None:
    assert compute(event, count, "business_days", direction=direction).last_day == d(expected)


def test_business_day_explanation_names_skipped_holidays() -> None:
    text = compute(ny(2026, 12, 20), 10, "business_days").explanation_text
    assert "business day 1 is Mon 21 Dec 2026 and business day 10 is Tue 5 Jan 2027" in text
    assert "Fri 25 Dec 2026 (Christmas Day); Fri 1 Jan 2027 (New Year's Day)" in text


# --------------------------------------------------------------------------- months


@pytest.mark.parametrize(
    ("case", "start", "months", "direction", "expected"),
    [
        ("31_jan_plus_1_leap_year", date(2028, 1, 31), 1, "after", "2028-02-29"),
        ("31_jan_plus_1_then_sunday_roll", date(2027, 1, 31), 1, "after", "2027-03-01"),
        ("29_feb_plus_12", date(2028, 2, 29), 12, "after", "2029-02-28"),
        ("31_mar_plus_1", date(2027, 3, 31), 1, "after", "2027-04-30"),
        ("across_year_end", date(2026, 11, 15), 2, "after", "2027-01-15"),
        ("31_mar_minus_1_leap_year", date(2028, 3, 31), 1, "before", "2028-02-29"),
        ("36_months_lands_on_mlk_day_2029", date(2026, 1, 15), 36, "after", "2029-01-16"),
        ("31_dec_minus_1", date(2027, 12, 31), 1, "before", "2027-11-30"),
        ("31_jan_minus_2_back_across_year_end", date(2027, 1, 31), 2, "before", "2026-11-30"),
        ("31_aug_plus_6_into_a_leap_february", date(2027, 8, 31), 6, "after", "2028-02-29"),
    ],
)
def test_months_add_calendar_months_clamped_then_roll(
    case: str, start: date, months: int, direction: str, expected: str
) -> None:
    event = datetime.combine(start, time(12), NY)
    assert compute(event, months, "months", direction=direction).last_day == d(expected)


def test_adding_months_keeps_the_day_or_clamps_to_the_months_last_day() -> None:
    # Every day of a common and a leap year, 25 months either way: the day of the month
    # is kept when the target month has it, else the target month's last day.
    start = date(2027, 1, 1)
    for offset in range(731):
        day = start + timedelta(days=offset)
        for months in range(-25, 26):
            year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
            length = monthrange(year, month + 1)[1]
            expected = date(year, month + 1, min(day.day, length))
            assert _add_months(day, months) == expected, (day, months)


def test_month_clamp_is_explained() -> None:
    text = compute(ny(2027, 1, 31), 1, "months").explanation_text
    assert "February 2027 has no day 31" in text
    assert "Sun 28 Feb 2027 is a Sunday, so under NY GCL § 25" in text


# --------------------------------------------------------------------------- ends / DST


@pytest.mark.parametrize(
    ("case", "event", "ends", "roll", "expected_utc"),
    [
        # 7 days after 1 Mar 2026 = Sun 8 Mar 2026, the spring-forward day (roll none).
        ("end_of_day_after_spring_forward", ny(2026, 3, 1), "end_of_day", "none",
         datetime(2026, 3, 9, 4, 0, tzinfo=UTC)),
        ("start_of_day_before_spring_forward", ny(2026, 3, 1), "start_of_day", "none",
         datetime(2026, 3, 8, 5, 0, tzinfo=UTC)),
        ("wall_time_after_spring_forward", ny(2026, 3, 1), time(17), "none",
         datetime(2026, 3, 8, 21, 0, tzinfo=UTC)),
        ("nonexistent_0230_moves_to_0300_edt", ny(2026, 3, 1), time(2, 30), "none",
         datetime(2026, 3, 8, 7, 0, tzinfo=UTC)),
        # 7 days after 25 Oct 2026 = Sun 1 Nov 2026, the fall-back day.
        ("repeated_0130_uses_first_edt", ny(2026, 10, 25), time(1, 30), "none",
         datetime(2026, 11, 1, 5, 30, tzinfo=UTC)),
        ("end_of_day_after_fall_back", ny(2026, 10, 25), "end_of_day", "none",
         datetime(2026, 11, 2, 5, 0, tzinfo=UTC)),
        # 7 days after 7 Mar 2027 = Sun 14 Mar 2027 -> rolled to Mon 15 Mar (EDT).
        ("rolled_past_2027_spring_forward", ny(2027, 3, 7), time(17), "forward",
         datetime(2027, 3, 15, 21, 0, tzinfo=UTC)),
    ],
)  # fmt: skip
def test_deadline_instant_on_the_last_day_uses_the_right_offset(
    case: str, event: datetime, ends: str | time, roll: str, expected_utc: datetime
) -> None:
    result = compute(event, 7, ends=ends, roll=roll)
    assert result.due_at == expected_utc
    assert result.due_at.utcoffset() == timedelta(0)


def test_nonexistent_wall_time_is_explained() -> None:
    text = compute(ny(2026, 3, 1), 7, ends=time(2, 30), roll="none").explanation_text
    assert "does not exist that day because the clocks go forward" in text
    assert "Sun 8 Mar 2026 03:00 New York time (Sun 8 Mar 2026 07:00 UTC)" in text


def test_anchor_day_counts_from_an_earlier_deadlines_last_day() -> None:
    effective = compute(ny(2026, 12, 1), 90)  # ends at the end of Mon 1 Mar 2027
    assert effective.due_at == datetime(2027, 3, 2, 5, 0, tzinfo=UTC)
    with_day = compute(effective.due_at, 7, direction="before", day=effective.last_day)
    without_day = compute(effective.due_at, 7, direction="before")
    assert with_day.last_day == d("2027-02-22")
    assert without_day.last_day == d("2027-02-23")
    assert "The count runs from Mon 1 Mar 2027" in with_day.explanation_text


# --------------------------------------------------------------------------- elapsed hours


# (case, event, hours, direction, expected local due)
HOUR_CASES = [
    ("after_spring_forward_2026", ny(2026, 3, 6, 12), 72, "after", ny(2026, 3, 9, 13)),
    ("before_spring_forward_2026", ny(2026, 3, 10, 2), 72, "before", ny(2026, 3, 7, 1)),
    ("after_spring_forward_2027", ny(2027, 3, 12, 12), 72, "after", ny(2027, 3, 15, 13)),
    ("after_fall_back_2026", ny(2026, 10, 30, 12), 72, "after", ny(2026, 11, 2, 11)),
    ("before_fall_back_2026", ny(2026, 11, 3, 2), 72, "before", ny(2026, 10, 31, 3)),
    ("no_clock_change", ny(2026, 12, 1, 10), 72, "after", ny(2026, 12, 4, 10)),
    ("no_roll_onto_christmas", ny(2026, 12, 24, 10), 24, "after", ny(2026, 12, 25, 10)),
    ("no_roll_onto_weekend", ny(2026, 12, 4, 10), 24, "after", ny(2026, 12, 5, 10)),
    ("zero_hours_is_the_event", ny(2026, 12, 4, 10), 0, "after", ny(2026, 12, 4, 10)),
]


@pytest.mark.parametrize(
    ("event", "hours", "direction", "expected"),
    [c[1:] for c in HOUR_CASES],
    ids=[c[0] for c in HOUR_CASES],
)
def test_hours_are_elapsed_time(
    event: datetime, hours: int, direction: str, expected: datetime
) -> None:
    result = compute(event, hours, "hours", direction=direction)
    assert result.local_due == expected
    assert (result.local_due.hour, result.local_due.minute) == (expected.hour, expected.minute)
    assert abs(result.due_at - event) == timedelta(hours=hours)
    assert result.last_day is None


@pytest.mark.parametrize(
    ("event", "direction", "message"),
    [
        (ny(2026, 3, 6, 12), "after", "clocks in New York go forward 1 hour on Sun 8 Mar 2026"),
        (ny(2026, 11, 3, 2), "before", "clocks in New York go back 1 hour on Sun 1 Nov 2026"),
    ],
)
def test_hours_explanation_mentions_clock_change(
    event: datetime, direction: str, message: str
) -> None:
    text = compute(event, 72, "hours", direction=direction).explanation_text
    assert message in text
    assert "exactly 72 hours" in text


def test_hours_explanation_silent_without_clock_change() -> None:
    text = compute(ny(2026, 12, 1), 72, "hours").explanation_text
    assert "clocks" not in text
    assert "Hours are elapsed time" in text


# --------------------------------------------------------------------------- business hours


# (case, event, hours, direction, expected local due)
BUSINESS_HOUR_CASES = [
    ("across_weekend", ny(2026, 12, 4, 16), 2, "after", ny(2026, 12, 7, 10)),
    ("across_christmas_and_weekend", ny(2026, 12, 24, 15), 4, "after", ny(2026, 12, 28, 11)),
    ("from_before_opening", ny(2026, 12, 7, 7), 2, "after", ny(2026, 12, 7, 11)),
    ("from_after_closing", ny(2026, 12, 9, 20), 4, "after", ny(2026, 12, 10, 13)),
    ("from_saturday", ny(2026, 12, 5, 12), 1, "after", ny(2026, 12, 7, 10)),
    ("ends_exactly_at_close", ny(2026, 12, 4, 15), 2, "after", ny(2026, 12, 4, 17)),
    ("two_full_days", ny(2026, 12, 7, 9), 16, "after", ny(2026, 12, 8, 17)),
    ("across_election_day", ny(2026, 11, 2, 16), 2, "after", ny(2026, 11, 4, 10)),
    ("across_spring_forward_weekend", ny(2026, 3, 6, 16), 2, "after", ny(2026, 3, 9, 10)),
    ("before_across_christmas", ny(2026, 12, 28, 10), 4, "before", ny(2026, 12, 24, 14)),
    ("before_from_evening", ny(2026, 12, 9, 20), 3, "before", ny(2026, 12, 9, 14)),
]


@pytest.mark.parametrize(
    ("event", "hours", "direction", "expected"),
    [c[1:] for c in BUSINESS_HOUR_CASES],
    ids=[c[0] for c in BUSINESS_HOUR_CASES],
)
def test_business_hours_skip_closed_time(
    event: datetime, hours: int, direction: str, expected: datetime
) -> None:
    result = compute(event, hours, "business_hours", direction=direction)
    assert result.local_due == expected
    assert (result.local_due.hour, result.local_due.minute) == (expected.hour, expected.minute)
    assert result.last_day is None


def test_business_hours_explanation_shows_each_day() -> None:
    text = compute(ny(2026, 12, 24, 15), 4, "business_hours").explanation_text
    assert "Business hours are 09:00-17:00 New York time on Monday to Friday" in text
    assert "Thu 24 Dec 2026: 2 hours counted (15:00-17:00)." in text
    assert (
        "Fri 25 Dec 2026 is Christmas Day (public holiday, NY GCL § 24): no business hours." in text
    )
    assert "Sat 26 Dec 2026 is a Saturday: no business hours." in text
    assert "Mon 28 Dec 2026: 2 hours counted (09:00-11:00)." in text


def test_business_hours_from_outside_hours_says_where_counting_starts() -> None:
    text = compute(ny(2026, 12, 9, 20), 4, "business_hours").explanation_text
    assert "counting starts at the next opening, Thu 10 Dec 2026 09:00 New York time" in text


def test_business_hours_follow_the_term_sheet() -> None:
    terms = TermSheet(
        customer={"name": "C", "notice_email": "c@example.com"},
        provider={"name": "P", "notice_email": "p@example.com"},
        owner={"name": "O", "email": "o@example.com"},
        effective_date=date(2026, 1, 1),
        fees={"monthly_fee": "10.00"},
        time_zone="America/Los_Angeles",
        business_hours={"start": "08:00", "end": "12:00", "weekdays": [0, 1, 2, 3, 4, 5]},
    )
    calendar = calendar_for(terms)
    assert calendar.time_zone == "America/Los_Angeles"
    assert calendar.business_weekdays == (0, 1, 2, 3, 4, 5)
    la = ZoneInfo("America/Los_Angeles")
    # Fri 11:00 + 3 business hours: 1 on Friday, Saturday counts, 2 on Saturday -> 10:00.
    result = compute(datetime(2026, 12, 4, 11, tzinfo=la), 3, "business_hours", calendar=calendar)
    assert result.local_due == datetime(2026, 12, 5, 10, tzinfo=la)


# --------------------------------------------------------------------------- calendar queries


@pytest.mark.parametrize(
    ("day", "reason"),
    [
        ("2026-12-26", "Saturday"),
        ("2026-12-27", "Sunday"),
        ("2026-12-25", "Christmas Day (public holiday, NY GCL § 24)"),
        ("2026-07-03", None),  # no Saturday-to-Friday shift
        ("2026-12-28", None),
        ("2026-02-12", "Lincoln's Birthday (public holiday, NY GCL § 24)"),
        ("2027-07-04", "Sunday and Independence Day (public holiday, NY GCL § 24)"),
        ("2027-07-05", "Independence Day (observed Monday; 4 Jul is a Sunday) (public holiday,"
         " NY GCL § 24)"),
        ("2026-11-03", "Election Day (public holiday, NY GCL § 24)"),
    ],
)  # fmt: skip
def test_why_not_business_day(day: str, reason: str | None) -> None:
    assert CAL.why_not_business_day(d(day)) == reason
    assert CAL.is_business_day(d(day)) is (reason is None)


@pytest.mark.parametrize(
    ("day", "next_day", "previous_day"),
    [
        ("2027-02-11", "2027-02-16", "2027-02-10"),
        ("2027-02-16", "2027-02-17", "2027-02-11"),
        ("2026-12-24", "2026-12-28", "2026-12-23"),
        ("2026-07-02", "2026-07-03", "2026-07-01"),
        ("2026-07-03", "2026-07-06", "2026-07-02"),
    ],
)
def test_next_and_previous_business_day(day: str, next_day: str, previous_day: str) -> None:
    assert CAL.next_business_day(d(day)) == d(next_day)
    assert CAL.previous_business_day(d(day)) == d(previous_day)


def test_calendar_for_accepts_duck_typed_terms() -> None:
    terms = SimpleNamespace(
        time_zone="America/Chicago",
        holiday_calendar="none",
        business_hours=SimpleNamespace(start=time(8), end=time(16), weekdays=[0, 1, 2, 3]),
    )
    calendar = calendar_for(terms, extra_holidays=[date(2026, 12, 1)])
    assert calendar == ContractCalendar(
        time_zone="America/Chicago",
        holidays="none",
        business_start=time(8),
        business_end=time(16),
        business_weekdays=(0, 1, 2, 3),
        extra_holidays=(date(2026, 12, 1),),
    )
    assert calendar.why_not_business_day(date(2026, 12, 4)) == "Friday (not a business weekday)"
    assert calendar.why_not_business_day(date(2026, 12, 1)) == (
        "Contract holiday (named in the contract)"
    )
    assert calendar.is_business_day(date(2026, 11, 26))  # Thanksgiving: no § 24 here


# --------------------------------------------------------------------------- descriptions


@pytest.mark.parametrize(
    ("instant", "zone", "text"),
    [
        (ny(2026, 12, 1, 10), "America/New_York", "Tue 1 Dec 2026 10:00 New York time"),
        (ny(2026, 12, 1, 10), "UTC", "Tue 1 Dec 2026 15:00 UTC"),
        (ny(2026, 12, 1, 23, 30), "Europe/London", "Wed 2 Dec 2026 04:30 London time"),
        (datetime(2026, 11, 1, 5, 30, tzinfo=UTC), "America/New_York",
         "Sun 1 Nov 2026 01:30 New York time (EDT)"),
        (datetime(2026, 11, 1, 6, 30, tzinfo=UTC), "America/New_York",
         "Sun 1 Nov 2026 01:30 New York time (EST)"),
        (datetime(2026, 12, 1, 15, 0, 30, tzinfo=UTC), "UTC", "Tue 1 Dec 2026 15:00:30 UTC"),
    ],
)  # fmt: skip
def test_describe_instant(instant: datetime, zone: str, text: str) -> None:
    assert describe_instant(instant, zone) == text


@pytest.mark.parametrize(
    ("due_at", "last_day", "zone", "text"),
    [
        # The reference: a period ending Thu 31 Dec falls due at the midnight after it.
        (datetime(2027, 1, 1, 5, tzinfo=UTC), d("2026-12-31"), "America/New_York",
         "end of Thu 31 Dec 2026, New York time"),
        # A 23-hour day (clocks forward at 02:00): its end is 04:00 UTC, EDT.
        (datetime(2026, 3, 9, 4, tzinfo=UTC), d("2026-03-08"), "America/New_York",
         "end of Sun 8 Mar 2026, New York time"),
        # A 25-hour day (clocks back at 02:00): its end is 05:00 UTC, EST.
        (datetime(2026, 11, 2, 5, tzinfo=UTC), d("2026-11-01"), "America/New_York",
         "end of Sun 1 Nov 2026, New York time"),
        # The day before the clocks go forward ends at midnight EST.
        (datetime(2026, 3, 8, 5, tzinfo=UTC), d("2026-03-07"), "America/New_York",
         "end of Sat 7 Mar 2026, New York time"),
        (datetime(2026, 12, 31, 23, tzinfo=UTC), d("2026-12-31"), "Europe/Berlin",
         "end of Thu 31 Dec 2026, Berlin time"),
        # London goes back to GMT that day: its end is midnight UTC.
        (datetime(2026, 10, 26, tzinfo=UTC), d("2026-10-25"), "Europe/London",
         "end of Sun 25 Oct 2026, London time"),
        (datetime(2027, 1, 1, tzinfo=UTC), d("2026-12-31"), "UTC", "end of Thu 31 Dec 2026, UTC"),
        # Santiago skips the midnight that ends Sat 5 Sep 2026 (00:00 is 01:00): the day
        # ends when the clocks jump, as the calendar computes it.
        (datetime(2026, 9, 6, 4, tzinfo=UTC), d("2026-09-05"), "America/Santiago",
         "end of Sat 5 Sep 2026, Santiago time"),
    ],
)  # fmt: skip
def test_a_deadline_at_the_end_of_its_last_day_reads_as_that_day(
    due_at: datetime, last_day: date, zone: str, text: str
) -> None:
    assert ends_its_last_day(due_at, last_day, zone)
    assert describe_deadline(due_at, last_day, zone) == text
    # The instant itself is the next day's first moment: what it read as before.
    assert describe_instant(due_at, zone) != text


@pytest.mark.parametrize(
    ("due_at", "last_day", "zone", "text"),
    [
        # At the midnight that starts its last day (a period ending "at the start of").
        (datetime(2027, 1, 1, 5, tzinfo=UTC), d("2027-01-01"), "America/New_York",
         "Fri 1 Jan 2027 00:00 New York time"),
        (ny(2026, 12, 31, 17), d("2026-12-31"), "America/New_York",
         "Thu 31 Dec 2026 17:00 New York time"),
        # One second before midnight is a time on the day, not its end.
        (datetime(2027, 1, 1, 4, 59, 59, tzinfo=UTC), d("2026-12-31"), "America/New_York",
         "Thu 31 Dec 2026 23:59:59 New York time"),
        # New York's midnight is not Berlin's: the zone decides.
        (datetime(2027, 1, 1, 5, tzinfo=UTC), d("2026-12-31"), "Europe/Berlin",
         "Fri 1 Jan 2027 06:00 Berlin time"),
        # No last day (an hours period), even at a midnight.
        (datetime(2027, 1, 1, 5, tzinfo=UTC), None, "America/New_York",
         "Fri 1 Jan 2027 00:00 New York time"),
    ],
)  # fmt: skip
def test_any_other_deadline_reads_as_its_instant(
    due_at: datetime, last_day: date | None, zone: str, text: str
) -> None:
    assert not ends_its_last_day(due_at, last_day, zone)
    assert describe_deadline(due_at, last_day, zone) == text == describe_instant(due_at, zone)


@pytest.mark.parametrize(
    ("event", "zone"),
    [
        (ny(2026, 12, 1), "America/New_York"),
        (ny(2026, 3, 1), "America/New_York"),  # the last day is the spring-forward Sunday
        (ny(2026, 10, 25), "America/New_York"),  # the last day is the fall-back Sunday
        (datetime(2026, 8, 29, 15, tzinfo=UTC), "America/Santiago"),
        (datetime(2026, 10, 18, 9, tzinfo=UTC), "Europe/London"),
    ],
)
def test_a_computed_end_of_day_deadline_reads_as_its_last_day(event: datetime, zone: str) -> None:
    calendar = ContractCalendar(time_zone=zone)
    ends = compute(event, 7, calendar=calendar, ends="end_of_day", roll="none")
    assert ends.last_day is not None
    assert describe_deadline(ends.due_at, ends.last_day, zone) == (
        f"end of {describe_day(ends.last_day)}, {zone.rsplit('/', 1)[-1].replace('_', ' ')} time"
    )
    starts = compute(event, 7, calendar=calendar, ends="start_of_day", roll="none")
    at_five = compute(event, 7, calendar=calendar, ends=time(17), roll="none")
    for other in (starts, at_five):
        assert other.last_day is not None
        text = describe_deadline(other.due_at, other.last_day, zone)
        assert text == describe_instant(other.due_at, zone)


def test_describing_a_deadline_needs_an_aware_instant() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        describe_deadline(datetime(2027, 1, 1), date(2026, 12, 31), "America/New_York")
    with pytest.raises(ValueError, match="unknown time zone"):
        ends_its_last_day(datetime(2027, 1, 1, tzinfo=UTC), None, "Mars/Olympus")


def test_describe_day() -> None:
    assert describe_day(date(2027, 3, 1)) == "Mon 1 Mar 2027"
    assert describe_day(date(2028, 2, 29)) == "Tue 29 Feb 2028"


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("count", "unit"),
    [
        (0, "calendar_days"),
        (0, "business_days"),
        (0, "months"),
        (0, "business_hours"),
        (-1, "hours"),
        (True, "calendar_days"),
        (1.5, "hours"),
        (1, "weeks"),
    ],
)
def test_invalid_period_is_rejected(count: object, unit: str) -> None:
    with pytest.raises(ValueError):
        Period(count, unit)  # type: ignore[arg-type]


def test_zero_elapsed_hours_is_allowed() -> None:
    assert Period(0, "hours").count == 0


def test_naive_instants_are_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Anchor(datetime(2026, 12, 1, 10), "naive")
    with pytest.raises(ValueError, match="timezone-aware"):
        describe_instant(datetime(2026, 12, 1, 10), "America/New_York")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"holidays": "US-ZZ"}, "US-ZZ"),
        ({"time_zone": "Mars/Olympus"}, "Mars/Olympus"),
        ({"business_start": time(17), "business_end": time(9)}, "end after"),
        ({"business_weekdays": (7,)}, "weekdays"),
        ({"business_weekdays": ()}, "weekdays"),
    ],
)
def test_invalid_calendar_is_rejected(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        ContractCalendar(**kwargs)


@pytest.mark.parametrize(
    "kwargs", [{"ends": "noon"}, {"roll": "sideways"}, {"direction": "during"}]
)
def test_invalid_rule_is_rejected(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        DeadlineRule(Period(1, "calendar_days"), **kwargs)


def test_a_deadline_that_does_not_roll_says_why_in_its_own_words() -> None:
    cal = ContractCalendar(time_zone="America/New_York")
    month_end = DeadlineRule(
        period=Period(1, "months"),
        roll="none",
        ends="start_of_day",
        label="Month ends",
        fixed_because="a calendar month ends when the next one begins, whatever the day",
    )
    result = compute_deadline(
        cal, month_end, Anchor(datetime(2026, 12, 1, 5, tzinfo=UTC), "the month began")
    )
    assert result.last_day == date(2027, 1, 1)  # New Year's Day: no roll
    text = result.explanation_text
    assert "a calendar month ends when the next one begins" in text
    assert "time of the essence" not in text


def test_a_zero_hour_deadline_falls_at_the_moment_itself() -> None:
    cal = ContractCalendar(time_zone="America/New_York")
    rule = DeadlineRule(period=Period(0, "hours"), label="Maintenance window ends")
    at = datetime(2037, 12, 5, 10, tzinfo=UTC)
    result = compute_deadline(cal, rule, Anchor(at, "the window is scheduled to end"))
    assert result.due_at == at
    text = result.explanation_text
    assert "at the moment the window is scheduled to end" in text
    assert "0 hours" not in text
