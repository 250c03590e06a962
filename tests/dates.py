"""Dates relative to the day the tests run: never a literal that today's run and a later
one would read differently (``make test`` runs the suite a year ahead to catch those).

The reference contract counts days in New York, so "today" is New York's date.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from contracts.holidays import NewYorkGCL24

NY = ZoneInfo("America/New_York")


def ny_today() -> dt.date:
    """Today's date in New York, where the reference contract counts its days."""
    return dt.datetime.now(NY).date()


def at_ny_on(day: dt.date, hh: int = 0, mm: int = 0) -> dt.datetime:
    """The UTC instant of a New York wall-clock time on ``day``."""
    return dt.datetime.combine(day, dt.time(hh, mm), tzinfo=NY).astimezone(dt.UTC)


def notice_days_ago(days: int, hh: int = 10) -> str:
    """A notice received ``days`` days before today, at ``hh``:00 New York time (ISO)."""
    return at_ny_on(ny_today() - dt.timedelta(days=days), hh).isoformat()


def a_monday_whose_ninetieth_day_is_a_sunday() -> tuple[dt.date, dt.date]:
    """A recent Monday, and the Monday that NY GCL § 25 makes its 90th day.

    Ninety days after a Monday fall on a Sunday, which § 25 carries to the next business
    day: the Monday after, unless that is a public holiday, so such Mondays are passed
    over. The Monday is before today and at most three weeks back, so the 60-day
    reminder before the effective date is still ahead.
    """
    holidays = NewYorkGCL24()
    day = ny_today() - dt.timedelta(days=1)
    while True:
        day -= dt.timedelta(days=day.weekday())  # back to a Monday
        effective = day + dt.timedelta(days=91)
        if effective not in holidays.holidays(effective.year):
            return day, effective
        day -= dt.timedelta(days=1)


def described(day: dt.date) -> str:
    """A date as notices and the console write it, e.g. "Mon 1 Feb 2027"."""
    return f"{day:%a} {day.day} {day:%b %Y}"
