"""The contract's calendar: its time zone, business weekdays and hours, public holidays
(NY GCL § 24, or its governing law's) and how it counts days; which days are business
days, and why one is not."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

from contracts.calendar.conventions import CountingConvention
from contracts.calendar.describing import _WEEKDAYS
from contracts.calendar.localtime import _zone
from contracts.calendar.model import Roll
from contracts.holidays import HolidayCalendar, holiday_calendar

# A calendar with no business day in ten years is misconfigured, not a long weekend.
_MAX_SEARCH_DAYS = 3660


@dataclass(frozen=True)
class ContractCalendar:
    """A contract's time zone, business hours and public holidays.

    A business day is a day whose weekday is in ``business_weekdays`` and that is not a
    public holiday. With the default Monday-Friday this is exactly the § 25 business
    day; a contract that lists Saturday as a business weekday is read as expressly
    intending Saturday to count.

    Attributes:
        time_zone: IANA zone name; local dates and business hours live here.
        holidays: Holiday calendar name from :func:`contracts.holidays.holiday_calendar`.
        business_start: Local opening time.
        business_end: Local closing time, after ``business_start``.
        business_weekdays: Business weekdays, Monday = 0.
        extra_holidays: Extra public holidays (for US-NY, days appointed by the
            president or governor).
        convention: How a contract under another law than New York's counts days (its
            term sheet's ``day_count``); None counts by NY GCL §§ 20, 25.
    """

    time_zone: str = "America/New_York"
    holidays: str = "US-NY"
    business_start: time = time(9)
    business_end: time = time(17)
    business_weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)
    extra_holidays: tuple[date, ...] = ()
    convention: CountingConvention | None = None
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)
    _calendar: HolidayCalendar = field(init=False, repr=False, compare=False)
    _by_year: dict[int, dict[date, str]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "_zone", _zone(self.time_zone))
        weekdays = tuple(sorted(set(self.business_weekdays)))
        if not weekdays or any(not isinstance(d, int) or not 0 <= d <= 6 for d in weekdays):
            raise ValueError("business_weekdays must be numbers 0 (Monday) to 6 (Sunday)")
        object.__setattr__(self, "business_weekdays", weekdays)
        object.__setattr__(self, "extra_holidays", tuple(sorted(set(self.extra_holidays))))
        if self.business_start.tzinfo is not None or self.business_end.tzinfo is not None:
            raise ValueError("business hours must be local wall times without a time zone")
        if self.business_end <= self.business_start:
            raise ValueError("business hours must end after they start")
        object.__setattr__(self, "_calendar", holiday_calendar(self.holidays, self.extra_holidays))

    @property
    def zone(self) -> ZoneInfo:
        """The contract's time zone."""
        return self._zone

    @property
    def holidays_described(self) -> str:
        """Its public holidays in words, with their source."""
        return str(getattr(self._calendar, "description", f"the holidays of {self.holidays}"))

    def roll_for(self, rule_roll: Roll) -> tuple[Roll, bool]:
        """The roll a deadline takes, and whether the term sheet's convention chose it.

        A clause's "forward" is the law's rule (NY GCL § 25 for New York); under another
        law the term sheet's convention takes its place. A clause's own "backward" or
        "none" (a reminder that must not be late, time of the essence) stays.
        """
        if self.convention is None or rule_roll != "forward":
            return rule_roll, False
        return self.convention.roll, True

    def convention_step(self) -> str | None:
        """The convention every explanation names, or None for New York (NY GCL)."""
        if self.convention is None:
            return None
        return self.convention.summary(
            self.business_weekdays, self.holidays_described, self.holidays
        )

    def holidays_in(self, year: int) -> dict[date, str]:
        """Returns the public holidays of ``year`` (date -> name)."""
        if year not in self._by_year:
            self._by_year[year] = dict(self._calendar.holidays(year))
        return self._by_year[year]

    def holiday_name(self, d: date) -> str | None:
        """Returns the name of the public holiday on ``d``, or None."""
        return self.holidays_in(d.year).get(d)

    def is_business_day(self, d: date) -> bool:
        """Tells whether ``d`` is a business day (business weekday, not a holiday)."""
        return d.weekday() in self.business_weekdays and self.holiday_name(d) is None

    def why_not_business_day(self, d: date) -> str | None:
        """Says why ``d`` is not a business day.

        Args:
            d: The day.

        Returns:
            None for a business day; otherwise e.g. "Saturday" or
            "Christmas Day (public holiday, NY GCL § 24)"; both reasons when a holiday
            falls on a weekend.
        """
        reasons = []
        if d.weekday() not in self.business_weekdays:
            weekday = _WEEKDAYS[d.weekday()]
            reasons.append(weekday if d.weekday() >= 5 else f"{weekday} (not a business weekday)")
        holiday = self.holiday_name(d)
        if holiday is not None:
            authority = getattr(self._calendar, "authority", "holiday")
            reasons.append(f"{holiday} ({authority})")
        return " and ".join(reasons) if reasons else None

    def next_business_day(self, d: date) -> date:
        """Returns the first business day after ``d``."""
        return self._step_to_business_day(d, 1)

    def previous_business_day(self, d: date) -> date:
        """Returns the last business day before ``d``."""
        return self._step_to_business_day(d, -1)

    def _step_to_business_day(self, d: date, step: int) -> date:
        for _ in range(_MAX_SEARCH_DAYS):
            d += timedelta(days=step)
            if self.is_business_day(d):
                return d
        raise ValueError(f"no business day within {_MAX_SEARCH_DAYS} days of {d}")

    def _not_business_phrase(self, d: date) -> str:
        # "Sat 30 Jan 2027 is a Saturday" / "... is Christmas Day (public holiday, ...)"
        reason = self.why_not_business_day(d) or "a business day"
        return f"a {reason}" if reason.split(" ")[0] in _WEEKDAYS else reason
