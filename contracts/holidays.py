"""Public-holiday calendars that stop the contractual clock.

Each calendar answers one question: which dates of a year are public holidays, and what
are they called. Weekends are not holidays here; the contract calendar decides which
weekdays are business days.

The New York calendar is built from the text of NY General Construction Law § 24 as it
reads today (Juneteenth added by ch. 249 of 2020). It is not a history of § 24: for years
long past it still applies today's list. It deliberately differs from the ``holidays``
package's ``US(subdiv="NY")``, which follows federal and state-employee observance (a
Saturday holiday observed on the Friday before, Susan B. Anthony Day) and leaves out
Flag Day. The tests list those differences.

To add a jurisdiction, write a class with ``name``, ``authority`` and ``holidays(year)``
and call :func:`register_holiday_calendar`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol, runtime_checkable

__all__ = [
    "HolidayCalendar",
    "NewYorkGCL24",
    "WeekendsOnly",
    "available_holiday_calendars",
    "holiday_calendar",
    "register_holiday_calendar",
]

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MON, _TUE, _THU, _SUN = 0, 1, 3, 6


@runtime_checkable
class HolidayCalendar(Protocol):
    """A named set of public holidays, year by year.

    ``name`` is read-only (a property here) so that frozen dataclasses satisfy the
    protocol. An implementation may also carry ``authority``, a short citation shown
    next to a holiday's name (for example "public holiday, NY GCL § 24").
    """

    @property
    def name(self) -> str: ...

    def holidays(self, year: int) -> dict[date, str]:
        """Returns the holidays of ``year`` as date -> plain-language name."""
        ...


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _last_weekday(year: int, month: int, weekday: int) -> date:
    next_month = date(year + month // 12, month % 12 + 1, 1)
    last = next_month - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _add(found: dict[date, str], day: date, name: str) -> None:
    # Two holidays on one date keep both names rather than losing one.
    found[day] = f"{found[day]}; {name}" if day in found else name


@dataclass(frozen=True)
class _ExtraDays:
    """The days a contract adds to a calendar, kept sorted and without repeats."""

    extra_days: tuple[date, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "extra_days", tuple(sorted(set(self.extra_days))))


@dataclass(frozen=True)
class NewYorkGCL24(_ExtraDays):
    """Public holidays under NY General Construction Law § 24.

    By hand, not the ``holidays`` package: its US-NY differs from § 24 (module docstring).

    Attributes:
        name: Registry name, "US-NY".
        extra_days: Days appointed by the president or the governor as days of general
            thanksgiving, fasting and prayer or other general religious observance.
            § 24 makes them public holidays but they cannot be predicted, so the
            contract (or an operator) supplies them.
    """

    name: str = "US-NY"
    authority: str = "public holiday, NY GCL § 24"

    # Juneteenth entered § 24 by ch. 249 of 2020.
    JUNETEENTH_FROM = 2020

    def holidays(self, year: int) -> dict[date, str]:
        """Lists the § 24 public holidays of ``year``.

        Args:
            year: Calendar year.

        Returns:
            Date -> name. A holiday that falls on a Sunday keeps its own date and the
            Monday after is listed too (except Flag Day, which is always a Sunday).
            A holiday on a Saturday is not moved to the Friday: § 24 has no such rule.
        """
        shifted: list[tuple[date, str]] = [
            (date(year, 1, 1), "New Year's Day"),
            (_nth_weekday(year, 1, _MON, 3), "Dr. Martin Luther King, Jr. Day"),
            (date(year, 2, 12), "Lincoln's Birthday"),
            (_nth_weekday(year, 2, _MON, 3), "Washington's Birthday"),
            (_last_weekday(year, 5, _MON), "Memorial Day"),
            (date(year, 7, 4), "Independence Day"),
            (_nth_weekday(year, 9, _MON, 1), "Labor Day"),
            (_nth_weekday(year, 10, _MON, 2), "Columbus Day"),
            (date(year, 11, 11), "Veterans' Day"),
            (_nth_weekday(year, 11, _THU, 4), "Thanksgiving Day"),
            (date(year, 12, 25), "Christmas Day"),
        ]
        if year >= self.JUNETEENTH_FROM:
            shifted.append((date(year, 6, 19), "Juneteenth"))

        found: dict[date, str] = {}
        for day, name in shifted:
            _add(found, day, name)
            if day.weekday() == _SUN:
                monday = day + timedelta(days=1)
                _add(
                    found,
                    monday,
                    f"{name} (observed Monday; {day.day} {_MONTHS[day.month - 1]} is a Sunday)",
                )
        # Flag Day is named in § 24 but excluded from the Sunday-to-Monday rule.
        _add(found, _nth_weekday(year, 6, _SUN, 2), "Flag Day")
        # New York holds a general election every November.
        _add(found, _nth_weekday(year, 11, _MON, 1) + timedelta(days=1), "Election Day")
        for day in self.extra_days:
            if day.year == year:
                _add(found, day, "Appointed day of general observance")
        return dict(sorted(found.items()))


@dataclass(frozen=True)
class WeekendsOnly(_ExtraDays):
    """No public holidays; only days the contract itself names (``extra_days``)."""

    name: str = "none"
    authority: str = "named in the contract"

    def holidays(self, year: int) -> dict[date, str]:
        """Returns the contract's own non-business days in ``year`` (often none).

        Args:
            year: Calendar year.

        Returns:
            Date -> name.
        """
        return {d: "Contract holiday" for d in self.extra_days if d.year == year}


HolidayCalendarFactory = Callable[[tuple[date, ...]], HolidayCalendar]

_REGISTRY: dict[str, HolidayCalendarFactory] = {
    "US-NY": lambda extra: NewYorkGCL24(extra_days=extra),
    "none": lambda extra: WeekendsOnly(extra_days=extra),
}


def register_holiday_calendar(name: str, factory: HolidayCalendarFactory) -> None:
    """Adds a jurisdiction to the registry.

    Args:
        name: The name term sheets use in ``holiday_calendar``.
        factory: Builds the calendar from a tuple of extra (appointed) days.

    Raises:
        ValueError: If ``name`` is already registered.
    """
    if name in _REGISTRY:
        raise ValueError(f"holiday calendar {name!r} is already registered")
    _REGISTRY[name] = factory


def available_holiday_calendars() -> tuple[str, ...]:
    """Returns the registered calendar names, sorted."""
    return tuple(sorted(_REGISTRY))


def holiday_calendar(name: str, extra_days: Iterable[date] = ()) -> HolidayCalendar:
    """Looks up a holiday calendar by name.

    Args:
        name: Registry name such as "US-NY" or "none".
        extra_days: Additional holidays (for US-NY, days appointed by the president or
            governor under § 24).

    Returns:
        The calendar.

    Raises:
        ValueError: If no calendar is registered under ``name``.
    """
    try:
        factory = _REGISTRY[name]
    except KeyError:
        known = ", ".join(available_holiday_calendars())
        raise ValueError(f"unknown holiday calendar {name!r}; known calendars: {known}") from None
    return factory(tuple(extra_days))
