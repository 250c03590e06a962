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

Other jurisdictions take their public holidays from the ``holidays`` package
(:class:`PackageHolidays`): Delaware, California, England and Wales. Its version is
pinned and named in every reason a day is a holiday, since a new release may change a
list. To add a jurisdiction, write a class with ``name``, ``authority``, ``description``
and ``holidays(year)`` (or a :class:`PackageHolidays`) and call
:func:`register_holiday_calendar`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol, runtime_checkable

import holidays as holidays_package

__all__ = [
    "HOLIDAYS_PACKAGE_VERSION",
    "HolidayCalendar",
    "NewYorkGCL24",
    "PackageHolidays",
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
    next to a holiday's name (for example "public holiday, NY GCL § 24"), and
    ``description``, the whole list in words ("the public holidays of NY GCL § 24").
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
    description: str = "the public holidays of NY GCL § 24"

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
    description: str = "no public holidays, only the days the contract names"

    def holidays(self, year: int) -> dict[date, str]:
        """Returns the contract's own non-business days in ``year`` (often none).

        Args:
            year: Calendar year.

        Returns:
            Date -> name.
        """
        return {d: "Contract holiday" for d in self.extra_days if d.year == year}


HolidayCalendarFactory = Callable[[tuple[date, ...]], HolidayCalendar]

#: The pinned ``holidays`` release (pyproject.toml), named in every explanation.
HOLIDAYS_PACKAGE_VERSION: str = holidays_package.__version__


@functools.cache
def _package_year(country: str, subdiv: str | None, year: int) -> tuple[tuple[date, str], ...]:
    # The package's lists are fixed for a release: built once a year and place.
    found = holidays_package.country_holidays(country, subdiv=subdiv, years=year)
    return tuple(sorted((d, n) for d, n in found.items() if d.year == year))


@functools.cache
def _package_years(country: str, subdiv: str | None) -> tuple[int, int]:
    covered = holidays_package.country_holidays(country, subdiv=subdiv)
    return covered.start_year, covered.end_year


@dataclass(frozen=True)
class PackageHolidays(_ExtraDays):
    """A jurisdiction's public holidays as the ``holidays`` package lists them.

    The package's own rules apply, observed days included (a Saturday holiday observed
    on the Friday in the United States; England's substitute bank holidays on the next
    Monday or Tuesday). A year outside the package's range raises rather than passing
    for a year without holidays.

    Attributes:
        extra_days: Days the contract adds.
        name: Registry name, e.g. "US-DE".
        country: The package's ISO 3166 country code, e.g. "US".
        subdiv: The package's subdivision, e.g. "DE", or None.
        place: Whose holidays, in words: "the State of Delaware".
    """

    name: str = ""
    country: str = ""
    subdiv: str | None = None
    place: str = ""

    @property
    def authority(self) -> str:
        """Shown next to a holiday's name: whose holiday, and where the list comes from."""
        return f"public holiday of {self.place}, holidays package {HOLIDAYS_PACKAGE_VERSION}"

    @property
    def description(self) -> str:
        """The list in words, with its source."""
        return f"the public holidays of {self.place} (holidays package {HOLIDAYS_PACKAGE_VERSION})"

    def holidays(self, year: int) -> dict[date, str]:
        """Lists the package's public holidays of ``year`` and the contract's own days.

        Args:
            year: Calendar year.

        Returns:
            Date -> name, e.g. "Boxing Day (observed)".

        Raises:
            ValueError: If the package does not cover ``year`` for this place.
        """
        first, last = _package_years(self.country, self.subdiv)
        if not first <= year <= last:
            raise ValueError(
                f"the holidays package {HOLIDAYS_PACKAGE_VERSION} lists the public holidays of"
                f" {self.place} for {first} to {last} only, not {year}"
            )
        found: dict[date, str] = {}
        for day, name in _package_year(self.country, self.subdiv, year):
            _add(found, day, name)
        for day in self.extra_days:
            if day.year == year:
                _add(found, day, "Contract holiday")
        return dict(sorted(found.items()))


def _package(name: str, country: str, subdiv: str, place: str) -> HolidayCalendarFactory:
    def factory(extra: tuple[date, ...]) -> HolidayCalendar:
        return PackageHolidays(
            extra_days=extra, name=name, country=country, subdiv=subdiv, place=place
        )

    return factory


_REGISTRY: dict[str, HolidayCalendarFactory] = {
    "US-NY": lambda extra: NewYorkGCL24(extra_days=extra),
    "none": lambda extra: WeekendsOnly(extra_days=extra),
    "US-DE": _package("US-DE", "US", "DE", "the State of Delaware"),
    "US-CA": _package("US-CA", "US", "CA", "the State of California"),
    # England and Wales share their bank holidays (Banking and Financial Dealings Act 1971).
    "GB-ENG": _package("GB-ENG", "GB", "ENG", "England and Wales"),
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
