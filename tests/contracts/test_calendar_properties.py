"""Properties of the deadline calendar (NY GCL §§ 20, 24, 25) checked with Hypothesis.

The example tests in ``test_calendar.py`` and ``test_holidays.py`` pin known dates; these
check rules that must hold for every date, time of day, time zone and period length:
rolling, the excluded event day, local dates, elapsed and business hours across clock
changes, month clamping, the explanation text and the § 24 holiday list.

Expected values are worked out here from the rule itself (calendar arithmetic, stepping
minute by minute through business hours), never by calling the private helpers of the
module under test. Example counts are bounded so the file runs in a few seconds.
"""

from __future__ import annotations

import calendar as stdlib_calendar
import re
from datetime import UTC, date, datetime, time, timedelta

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from contracts.calendar import (
    ComputedDeadline,
    ContractCalendar,
    describe_day,
)
from contracts.holidays import NewYorkGCL24
from tests.contracts.helpers import notice_deadline as deadline
from tests.support.properties import bounded

FAST, SLOW = bounded(60, 25)

NY_CAL = ContractCalendar()
CALENDARS = [
    NY_CAL,
    # Clocks changed at midnight here until 2019: a local day could start at 01:00.
    ContractCalendar(time_zone="America/Sao_Paulo"),
    # Southern-hemisphere DST, other business hours.
    ContractCalendar(time_zone="Pacific/Auckland", business_start=time(8, 30)),
    # Half-hour DST shifts; Saturday is a business weekday; no public holidays.
    ContractCalendar(
        time_zone="Australia/Lord_Howe", holidays="none", business_weekdays=(0, 1, 2, 3, 4, 5)
    ),
    ContractCalendar(time_zone="Asia/Kolkata"),
]
calendars = st.sampled_from(CALENDARS)
days = st.dates(date(1995, 1, 1), date(2095, 12, 31))
# Two-day periods follow their own § 20 rule, so draw them often.
day_counts = st.one_of(st.just(2), st.integers(1, 400))
business_day_counts = st.integers(1, 60)
directions = st.sampled_from(["after", "before"])
rolls = st.sampled_from(["forward", "backward", "none"])
day_ends = st.sampled_from(["end_of_day", "start_of_day"])
ONE_MICROSECOND = timedelta(microseconds=1)
MINUTE = timedelta(minutes=1)


@st.composite
def local_instants(draw: st.DrawFn, cal: ContractCalendar) -> datetime:
    """An aware UTC instant made from a local wall time (either fold) in the calendar's zone."""
    day = draw(days)
    wall = draw(st.times())
    fold = draw(st.integers(0, 1))
    return datetime.combine(day, wall).replace(tzinfo=cal.zone, fold=fold).astimezone(UTC)


def local_date(cal: ContractCalendar, instant: datetime) -> date:
    return instant.astimezone(cal.zone).date()


def days_between(first: date, last: date) -> list[date]:
    """The days from ``first`` up to but not including ``last`` (either order)."""
    step = timedelta(days=1 if last >= first else -1)
    out, d = [], first
    while d != last:
        out.append(d)
        d += step
    return out


def add_months(d: date, months: int) -> date:
    year, month0 = divmod(d.year * 12 + d.month - 1 + months, 12)
    return date(year, month0 + 1, min(d.day, stdlib_calendar.monthrange(year, month0 + 1)[1]))


def assert_day_end(cal: ContractCalendar, result: ComputedDeadline, ends: str) -> None:
    """The instant is where the local date changes: after the last day, or into it."""
    assert result.last_day is not None
    assert result.due_at.utcoffset() == timedelta(0)
    assert result.local_due == result.due_at
    target = result.last_day + timedelta(days=1) if ends == "end_of_day" else result.last_day
    assert local_date(cal, result.due_at) == target
    assert local_date(cal, result.due_at - ONE_MICROSECOND) < target


# --------------------------------------------------------------------------- rolling


@FAST
@given(data=st.data(), cal=calendars, n=day_counts, direction=directions, ends=day_ends)
def test_roll_none_lands_exactly_on_the_count(
    data: st.DataObject, cal: ContractCalendar, n: int, direction: str, ends: str
) -> None:
    instant = data.draw(local_instants(cal))
    start = local_date(cal, instant)
    sign = 1 if direction == "after" else -1
    result = deadline(cal, n, "calendar_days", instant, direction=direction, roll="none", ends=ends)
    assert result.last_day is not None
    if n != 2:
        assert result.last_day == start + timedelta(days=sign * n)
    else:
        # § 20: in a two-day period the non-business days after the event day are left
        # out, so day 1 is the first business day and day 2 the calendar day after it.
        day_one = cal.next_business_day(start) if sign > 0 else cal.previous_business_day(start)
        assert result.last_day == day_one + timedelta(days=sign)
    assert_day_end(cal, result, ends)


@FAST
@given(data=st.data(), cal=calendars, n=day_counts, direction=directions, ends=day_ends)
def test_forward_roll_is_the_first_business_day_on_or_after_the_period_end(
    data: st.DataObject, cal: ContractCalendar, n: int, direction: str, ends: str
) -> None:
    instant = data.draw(local_instants(cal))
    fixed = deadline(cal, n, "calendar_days", instant, direction=direction, roll="none")
    rolled = deadline(cal, n, "calendar_days", instant, direction=direction, ends=ends)
    assert fixed.last_day is not None and rolled.last_day is not None
    assert rolled.last_day >= fixed.last_day
    assert cal.is_business_day(rolled.last_day)
    assert not any(cal.is_business_day(d) for d in days_between(fixed.last_day, rolled.last_day))
    assert_day_end(cal, rolled, ends)


@FAST
@given(data=st.data(), cal=calendars, n=day_counts, direction=directions, ends=day_ends)
def test_backward_roll_is_the_last_business_day_on_or_before_the_period_end(
    data: st.DataObject, cal: ContractCalendar, n: int, direction: str, ends: str
) -> None:
    instant = data.draw(local_instants(cal))
    fixed = deadline(cal, n, "calendar_days", instant, direction=direction, roll="none")
    rolled = deadline(
        cal, n, "calendar_days", instant, direction=direction, roll="backward", ends=ends
    )
    assert fixed.last_day is not None and rolled.last_day is not None
    assert rolled.last_day <= fixed.last_day
    assert cal.is_business_day(rolled.last_day)
    assert not any(cal.is_business_day(d) for d in days_between(fixed.last_day, rolled.last_day))
    assert_day_end(cal, rolled, ends)


@FAST
@given(
    cal=calendars, target=days, n=st.integers(3, 400), roll=st.sampled_from(["forward", "backward"])
)
def test_rolling_matches_the_calendar_and_is_idempotent(
    cal: ContractCalendar, target: date, n: int, roll: str
) -> None:
    # Anchor.day sets the event day, so the unrolled period ends exactly on ``target``.
    instant = datetime(2000, 1, 1, tzinfo=UTC)
    once = deadline(cal, n, "calendar_days", instant, day=target - timedelta(days=n), roll=roll)
    assert once.last_day is not None
    if cal.is_business_day(target):
        expected = target
    elif roll == "forward":
        expected = cal.next_business_day(target)
    else:
        expected = cal.previous_business_day(target)
    assert once.last_day == expected
    # Rolling the rolled day again changes nothing.
    twice = deadline(
        cal, n, "calendar_days", instant, day=once.last_day - timedelta(days=n), roll=roll
    )
    assert twice.last_day == once.last_day
    assert twice.due_at == once.due_at


@FAST
@given(cal=calendars, d=days)
def test_next_and_previous_business_day_are_the_nearest_business_days(
    cal: ContractCalendar, d: date
) -> None:
    after, before = cal.next_business_day(d), cal.previous_business_day(d)
    assert before < d < after
    assert cal.is_business_day(after) and cal.is_business_day(before)
    assert not any(cal.is_business_day(x) for x in days_between(d + timedelta(days=1), after))
    assert not any(cal.is_business_day(x) for x in days_between(d - timedelta(days=1), before))
    # Stepping from a business day to its neighbour and back returns to it.
    assert cal.previous_business_day(after) == (d if cal.is_business_day(d) else before)


@FAST
@given(data=st.data(), cal=calendars, n=business_day_counts, direction=directions, roll=rolls)
def test_business_days_count_exactly_n_business_days_and_never_roll(
    data: st.DataObject, cal: ContractCalendar, n: int, direction: str, roll: str
) -> None:
    instant = data.draw(local_instants(cal))
    start = local_date(cal, instant)
    result = deadline(cal, n, "business_days", instant, direction=direction, roll=roll)
    last = result.last_day
    assert last is not None and cal.is_business_day(last)
    if direction == "after":
        assert last > start
        counted = days_between(start + timedelta(days=1), last + timedelta(days=1))
    else:
        assert last < start
        counted = days_between(start - timedelta(days=1), last - timedelta(days=1))
    assert sum(cal.is_business_day(d) for d in counted) == n


# --------------------------------------------------------------------------- § 20: days


@FAST
@given(data=st.data(), cal=calendars, direction=directions)
def test_the_event_day_is_excluded(
    data: st.DataObject, cal: ContractCalendar, direction: str
) -> None:
    instant = data.draw(local_instants(cal))
    sign = 1 if direction == "after" else -1
    result = deadline(cal, 1, "calendar_days", instant, direction=direction, roll="none")
    assert result.last_day == local_date(cal, instant) + timedelta(days=sign)


@FAST
@given(
    cal=calendars,
    d=days,
    walls=st.lists(st.times(), min_size=2, max_size=2),
    folds=st.lists(st.integers(0, 1), min_size=2, max_size=2),
    unit_count=st.sampled_from(
        [
            ("calendar_days", 1),
            ("calendar_days", 2),
            ("calendar_days", 30),
            ("business_days", 1),
            ("business_days", 10),
            ("months", 1),
            ("months", 13),
        ]
    ),
    direction=directions,
    roll=rolls,
)
def test_any_time_of_the_same_local_day_gives_the_same_deadline(
    cal: ContractCalendar,
    d: date,
    walls: list[time],
    folds: list[int],
    unit_count: tuple[str, int],
    direction: str,
    roll: str,
) -> None:
    unit, n = unit_count
    instants = [
        datetime.combine(d, wall).replace(tzinfo=cal.zone, fold=fold).astimezone(UTC)
        for wall, fold in zip(walls, folds, strict=True)
    ]
    # A wall time in a clock-change gap can map onto a neighbouring date; skip those.
    assume(all(local_date(cal, i) == d for i in instants))
    first, second = (deadline(cal, n, unit, i, direction=direction, roll=roll) for i in instants)
    assert first.last_day == second.last_day
    assert first.due_at == second.due_at


# --------------------------------------------------------------------------- hours


@FAST
@given(
    cal=calendars,
    instant=st.datetimes(datetime(1995, 1, 1), datetime(2095, 12, 31), timezones=st.just(UTC)),
    n=st.integers(0, 24 * 120),
    direction=directions,
    in_local_zone=st.booleans(),
)
def test_elapsed_hours_are_exact_in_utc_across_clock_changes(
    cal: ContractCalendar, instant: datetime, n: int, direction: str, in_local_zone: bool
) -> None:
    anchor = instant.astimezone(cal.zone) if in_local_zone else instant
    result = deadline(cal, n, "hours", anchor, direction=direction)
    sign = 1 if direction == "after" else -1
    assert result.due_at.utcoffset() == timedelta(0)
    assert result.due_at == instant + sign * timedelta(hours=n)
    # Subtracting in UTC: the wall-clock difference may be off by the DST shift.
    assert sign * (result.due_at.astimezone(UTC) - instant) == timedelta(hours=n)
    assert result.local_due == result.due_at
    assert result.last_day is None


def open_minutes(cal: ContractCalendar, start: datetime, end: datetime) -> int:
    """Counts the minutes in [start, end) that lie in business hours, one by one."""
    count, t = 0, start
    status: dict[date, bool] = {}
    while t < end:
        local = t.astimezone(cal.zone)
        day = local.date()
        if day not in status:
            status[day] = cal.is_business_day(day)
        if status[day] and cal.business_start <= local.time() < cal.business_end:
            count += 1
        t += MINUTE
    return count


@SLOW
@given(
    cal=st.sampled_from([NY_CAL, CALENDARS[2], CALENDARS[3]]),
    instant=st.datetimes(datetime(1995, 1, 1), datetime(2095, 12, 31), timezones=st.just(UTC)),
    n=st.integers(1, 24),
    direction=directions,
)
def test_business_hours_count_exactly_n_hours_of_open_time(
    cal: ContractCalendar, instant: datetime, n: int, direction: str
) -> None:
    anchor = instant.replace(second=0, microsecond=0)  # whole minutes, to step by minutes
    result = deadline(cal, n, "business_hours", anchor, direction=direction)
    due = result.due_at
    local = due.astimezone(cal.zone)
    assert cal.is_business_day(local.date())
    if direction == "after":
        assert due > anchor
        # Inside business hours, or exactly at the close.
        assert cal.business_start < local.time() <= cal.business_end
        assert open_minutes(cal, anchor, due) == n * 60
    else:
        assert due < anchor
        assert cal.business_start <= local.time() < cal.business_end
        assert open_minutes(cal, due, anchor) == n * 60


# --------------------------------------------------------------------------- months


@FAST
@given(cal=calendars, start=days, n=st.integers(1, 240), direction=directions)
def test_months_clamp_to_the_end_of_a_shorter_month(
    cal: ContractCalendar, start: date, n: int, direction: str
) -> None:
    sign = 1 if direction == "after" else -1
    instant = datetime(2000, 1, 1, tzinfo=UTC)
    result = deadline(cal, n, "months", instant, day=start, direction=direction, roll="none")
    expected = add_months(start, sign * n)
    assert result.last_day == expected
    month_length = stdlib_calendar.monthrange(expected.year, expected.month)[1]
    assert expected.day == min(start.day, month_length)
    if expected.day != start.day:
        assert f"has no day {start.day}" in result.explanation_text


@FAST
@given(
    cal=calendars,
    month=st.dates(date(1995, 1, 1), date(2095, 12, 1)),
    n=st.integers(1, 240),
    direction=directions,
)
def test_months_from_the_first_land_on_the_first(
    cal: ContractCalendar, month: date, n: int, direction: str
) -> None:
    first = month.replace(day=1)
    instant = datetime(2000, 1, 1, tzinfo=UTC)
    result = deadline(cal, n, "months", instant, day=first, direction=direction, roll="none")
    assert result.last_day is not None and result.last_day.day == 1
    sign = 1 if direction == "after" else -1
    months_moved = (result.last_day.year - first.year) * 12 + result.last_day.month - first.month
    assert months_moved == sign * n


# --------------------------------------------------------------------------- explanations


@FAST
@given(
    data=st.data(),
    cal=calendars,
    unit_count=st.one_of(
        st.tuples(st.just("calendar_days"), day_counts),
        st.tuples(st.just("business_days"), business_day_counts),
    ),
    direction=directions,
    roll=rolls,
)
def test_explanations_cite_section_20_and_name_each_rolled_day(
    data: st.DataObject,
    cal: ContractCalendar,
    unit_count: tuple[str, int],
    direction: str,
    roll: str,
) -> None:
    unit, n = unit_count
    instant = data.draw(local_instants(cal))
    result = deadline(cal, n, unit, instant, direction=direction, roll=roll)
    fixed = deadline(cal, n, unit, instant, direction=direction, roll="none")
    text = result.explanation_text
    assert "NY GCL § 20" in text
    assert result.last_day is not None and fixed.last_day is not None
    assert describe_day(result.last_day) in text
    rolled_over = days_between(fixed.last_day, result.last_day)
    for d in rolled_over:
        assert describe_day(d) in text
        reason = cal.why_not_business_day(d)
        assert reason is not None
        assert reason.split(" (")[0] in text
    if rolled_over and roll == "forward":
        assert "NY GCL § 25" in text
    if roll == "none" and not cal.is_business_day(fixed.last_day):
        assert "NY GCL § 25 does not apply" in text


# --------------------------------------------------------------------------- § 24 holidays

GCL24 = NewYorkGCL24()
years = st.integers(1990, 2100)


def nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th (1-based; -1 = last) given weekday of a month, by listing the month."""
    matching = [
        date(year, month, day)
        for day in range(1, stdlib_calendar.monthrange(year, month)[1] + 1)
        if date(year, month, day).weekday() == weekday
    ]
    return matching[n - 1] if n > 0 else matching[n]


def section_24(year: int) -> dict[str, date]:
    """The § 24 holidays of a year, worked out from the statute's wording."""
    mon, tue, thu, sun = 0, 1, 3, 6
    first_monday_nov = nth_weekday(year, 11, mon, 1)
    listed = {
        "New Year's Day": date(year, 1, 1),
        "Dr. Martin Luther King, Jr. Day": nth_weekday(year, 1, mon, 3),
        "Lincoln's Birthday": date(year, 2, 12),
        "Washington's Birthday": nth_weekday(year, 2, mon, 3),
        "Memorial Day": nth_weekday(year, 5, mon, -1),
        "Flag Day": nth_weekday(year, 6, sun, 2),
        "Independence Day": date(year, 7, 4),
        "Labor Day": nth_weekday(year, 9, mon, 1),
        "Columbus Day": nth_weekday(year, 10, mon, 2),
        # The Tuesday after the first Monday in November.
        "Election Day": next(
            first_monday_nov + timedelta(days=k)
            for k in range(1, 8)
            if (first_monday_nov + timedelta(days=k)).weekday() == tue
        ),
        "Veterans' Day": date(year, 11, 11),
        "Thanksgiving Day": nth_weekday(year, 11, thu, 4),
        "Christmas Day": date(year, 12, 25),
    }
    if year >= 2020:
        listed["Juneteenth"] = date(year, 6, 19)
    return listed


def split_names(names: str) -> list[str]:
    """Splits "A; B" into names; an observed name has its own "; " inside parentheses."""
    return re.split(r"; (?![^()]*\))", names)


def check_year(year: int) -> None:
    found = GCL24.holidays(year)
    listed = section_24(year)
    for name, day in listed.items():
        assert day in found, f"{name} {day} missing"
        assert name in split_names(found[day])
        assert not NY_CAL.is_business_day(day)
    for day, names in found.items():
        assert day.year == year
        for name in split_names(names):
            if "(observed Monday" in name:
                # Observed Mondays exist only after a Sunday holiday, never for Flag Day.
                base = name.split(" (observed Monday")[0]
                assert day.weekday() == 0
                assert base != "Flag Day"
                assert listed[base] == day - timedelta(days=1)
                assert listed[base].weekday() == 6
            else:
                # Every other entry is a listed holiday on its own date: in particular
                # no Saturday holiday is moved to (or doubled on) the Friday before.
                assert listed[name] == day
    # Conversely every Sunday holiday but Flag Day has its Monday.
    for name, day in listed.items():
        if day.weekday() == 6 and name != "Flag Day":
            monday = day + timedelta(days=1)
            assert monday in found and f"{name} (observed Monday" in found[monday]


@settings(FAST, max_examples=120)
@given(year=years)
def test_section_24_holidays_are_exactly_the_statutory_list(year: int) -> None:
    check_year(year)


def test_section_24_holidays_every_year_1990_to_2100() -> None:
    # Cheap enough to sweep the whole range, so no year is left to chance.
    for year in range(1990, 2101):
        check_year(year)


@FAST
@given(year=years)
def test_no_saturday_holiday_makes_the_friday_before_a_holiday(year: int) -> None:
    statutory_days = {d for y in (year - 1, year) for d in section_24(y).values()}
    for name, day in section_24(year).items():
        if day.weekday() == 5:
            friday = day - timedelta(days=1)
            if friday not in statutory_days:
                assert NY_CAL.holiday_name(friday) is None, (name, day)
                assert NY_CAL.is_business_day(friday)
