"""Day periods: calendar days (NY GCL § 20, with its two-day rule, or the term sheet's
convention under another law), business days and calendar months, counted on local
dates from the event day, then rolled and ended."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from dateutil.relativedelta import relativedelta

from contracts.calendar.business import _MAX_SEARCH_DAYS, ContractCalendar
from contracts.calendar.describing import _MONTH_NAMES, describe_day
from contracts.calendar.model import Anchor, DeadlineRule
from contracts.calendar.rolling import _day_end_instant, _roll


def _day_period(
    calendar: ContractCalendar, rule: DeadlineRule, anchor: Anchor, steps: list[str]
) -> tuple[date, datetime]:
    start = anchor.day or anchor.instant.astimezone(calendar.zone).date()
    n = rule.period.count
    sign = 1 if rule.direction == "after" else -1
    back = " counting back" if sign < 0 else ""
    if rule.period.unit == "months":
        last = _add_months(start, sign * n)
        steps.append(
            f"Counting {rule.period.describe()}{' back' if sign < 0 else ''} from"
            f" {describe_day(start)} gives {describe_day(last)}."
        )
        if last.day != start.day:
            steps.append(
                f"{_MONTH_NAMES[last.month - 1]} {last.year} has no day {start.day}, so the"
                f" period ends on the last day of that month, {describe_day(last)}."
            )
        if _includes_event_day(calendar):
            # The event day is the period's first day, so its last is a day short.
            last -= timedelta(days=sign)
            steps.append(
                "As the term sheet states, the event day counts as the first day, so the"
                f" period ends the day {'before' if sign > 0 else 'after'},"
                f" {describe_day(last)}."
            )
    elif rule.period.unit == "business_days":
        last = _count_business_days(calendar, start, n, sign, steps)
    else:
        first = start if _includes_event_day(calendar) else start + timedelta(days=sign)
        skipped: list[date] = []
        if n == 2 and calendar.convention is None:
            # § 20: in a two-day period an intervening non-business day is not counted.
            while not calendar.is_business_day(first):
                skipped.append(first)
                first += timedelta(days=sign)
        last = first + timedelta(days=sign * (n - 1))
        if _includes_event_day(calendar):
            steps.append(
                f"{_event_day_step(calendar, start, 'calendar_days')};{back}"
                f" day {n} is {describe_day(last)}."
            )
        else:
            steps.append(
                f"{_event_day_step(calendar, start, 'calendar_days')};{back} day 1 is"
                f" {describe_day(first)} and day {n} is {describe_day(last)}."
            )
        if skipped:
            left_out = " and ".join(
                f"{describe_day(d)} ({calendar.why_not_business_day(d)})" for d in skipped
            )
            steps.append(
                "This is a period of two days, so under NY GCL § 20 the intervening"
                f" {left_out} {'is' if len(skipped) == 1 else 'are'} left out of the reckoning."
            )
    roll, by_convention = calendar.roll_for(rule.roll)
    final = _roll(calendar, last, roll, steps, rule.fixed_because, by_convention)
    due = _day_end_instant(calendar, final, rule, steps)
    return final, due


def _count_business_days(
    calendar: ContractCalendar, start: date, n: int, sign: int, steps: list[str]
) -> date:
    # With the event day included, the count starts on it rather than the day after.
    d = start - timedelta(days=sign) if _includes_event_day(calendar) else start
    counted, first = 0, start
    holidays: list[date] = []
    for _ in range(n * 7 + _MAX_SEARCH_DAYS):
        if counted == n:
            break
        d += timedelta(days=sign)
        if calendar.is_business_day(d):
            counted += 1
            if counted == 1:
                first = d
        elif calendar.holiday_name(d) is not None:
            holidays.append(d)
    else:
        raise ValueError(f"could not find {n} business days from {start}")
    back = " counting back" if sign < 0 else ""
    steps.append(
        f"{_event_day_step(calendar, start, 'business_days')}. Counting only business"
        f" days{back}, business day 1 is"
        f" {describe_day(first)} and business day {n} is {describe_day(d)}."
    )
    if holidays:
        named = "; ".join(f"{describe_day(h)} ({calendar.holiday_name(h)})" for h in holidays)
        steps.append(f"Public holidays skipped in the count: {named}.")
    return d


def _event_day_step(calendar: ContractCalendar, start: date, unit: str) -> str:
    if calendar.convention is not None:
        return calendar.convention.event_day_step(start, unit)
    # NY GCL § 20 in the words of every day count's first step.
    return f"Under NY GCL § 20 the event day, {describe_day(start)}, is excluded from the count"


def _includes_event_day(calendar: ContractCalendar) -> bool:
    return calendar.convention is not None and calendar.convention.event_day == "included"


def _add_months(d: date, months: int) -> date:
    # relativedelta clamps to the month's last day (31 Jan + 1 month is 28 or 29 Feb).
    return d + relativedelta(months=months)
