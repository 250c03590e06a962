"""Where a day period ends: the last day rolled past non-business days (NY GCL § 25 or
the term sheet's convention, backwards, or not at all), then the instant on that day the
deadline falls."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from contracts.calendar.business import _MAX_SEARCH_DAYS, ContractCalendar
from contracts.calendar.describing import _capitalised, _local_and_utc, describe_day
from contracts.calendar.localtime import _local_to_utc
from contracts.calendar.model import DeadlineRule, Roll


def _roll(
    calendar: ContractCalendar,
    last: date,
    roll: Roll,
    steps: list[str],
    fixed_because: str = "the clause makes time of the essence",
    by_convention: bool = False,
) -> date:
    # by_convention: the term sheet's convention chose the roll (a law other than New
    # York's); otherwise the clause did, or NY GCL § 25 did.
    new_york = calendar.convention is None
    if calendar.is_business_day(last):
        steps.append(f"{describe_day(last)} is a business day, so the period ends that day.")
        return last
    if roll == "none":
        if by_convention:
            steps.append(
                f"{describe_day(last)} is {calendar._not_business_phrase(last)}, but the term"
                " sheet states that a last day that is not a business day stays where it"
                " falls, so the period ends that day."
            )
        else:
            steps.append(
                f"{describe_day(last)} is {calendar._not_business_phrase(last)}, but"
                f" {fixed_because}, so the period is not extended to the next business day"
                + (" (NY GCL § 25 does not apply)." if new_york else ".")
            )
        return last
    d = last
    while not calendar.is_business_day(d):
        if roll == "forward":
            why = "under NY GCL § 25" if new_york else "as the term sheet states"
            steps.append(
                f"{describe_day(d)} is {calendar._not_business_phrase(d)}, so {why}"
                " the period runs to the next business day."
            )
            d += timedelta(days=1)
        else:
            why = "as the term sheet states" if by_convention else "under this rule"
            steps.append(
                f"{describe_day(d)} is {calendar._not_business_phrase(d)}, so {why}"
                " the day moves back to the previous business day."
            )
            d -= timedelta(days=1)
        if abs((d - last).days) > _MAX_SEARCH_DAYS:
            raise ValueError(f"no business day within {_MAX_SEARCH_DAYS} days of {last}")
    steps.append(f"The period therefore ends on {describe_day(d)}.")
    return d


def _day_end_instant(
    calendar: ContractCalendar, day: date, rule: DeadlineRule, steps: list[str]
) -> datetime:
    tz = calendar.time_zone
    label = _capitalised(rule.label)
    if rule.ends == "end_of_day":
        due = _local_to_utc(day + timedelta(days=1), time(0), calendar.zone)
        when = f"at the end of {describe_day(day)} (midnight)"
    elif rule.ends == "start_of_day":
        due = _local_to_utc(day, time(0), calendar.zone)
        when = f"at the start of {describe_day(day)}"
    else:
        wall = rule.ends
        due = _local_to_utc(day, wall, calendar.zone)
        when = f"at {wall.strftime('%H:%M')} local time on {describe_day(day)}"
        actual = due.astimezone(calendar.zone)
        if actual.replace(tzinfo=None) != datetime.combine(day, wall):
            when += (
                f" (that time does not exist that day because the clocks go forward, so the"
                f" deadline is the moment the clocks jump, {actual.strftime('%H:%M')})"
            )
        elif actual.replace(fold=1).utcoffset() != actual.utcoffset():
            when += " (that time occurs twice as the clocks go back; the first one counts)"
    steps.append(f"{label}: {when}: {_local_and_utc(due, tz)}.")
    return due
