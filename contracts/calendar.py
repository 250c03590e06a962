"""The deadline calendar: counts contractual periods the way New York law does.

Rules applied (NY General Construction Law):

* § 20: a period of N days from an event excludes the event's day; day 1 is the next
  calendar day. The day is the local date in the contract's time zone. In a period of
  exactly two days, a Saturday, Sunday or public holiday between the event day and the
  last day is left out of the reckoning.
* § 25: a contractual period that ends on a Saturday, Sunday or public holiday runs to
  the next business day, unless the contract says otherwise (time of the essence).
* § 24: public holidays, see :mod:`contracts.holidays`.

Hours are elapsed time and are computed in UTC. Day and month periods are computed on
local dates and only then turned into an instant. Everything here is pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.relativedelta import relativedelta

from contracts.holidays import HolidayCalendar, holiday_calendar

__all__ = [
    "Anchor",
    "ComputedDeadline",
    "ContractCalendar",
    "DeadlineRule",
    "Period",
    "PeriodUnit",
    "compute_deadline",
    "describe_day",
    "describe_instant",
]

PeriodUnit = Literal["calendar_days", "business_days", "hours", "business_hours", "months"]
Direction = Literal["after", "before"]
Roll = Literal["forward", "backward", "none"]
DayEnd = Literal["end_of_day", "start_of_day"]

_DAY_UNITS = ("calendar_days", "business_days", "months")
_UNIT_WORDS: dict[str, tuple[str, str]] = {
    "calendar_days": ("calendar day", "calendar days"),
    "business_days": ("business day", "business days"),
    "hours": ("hour", "hours"),
    "business_hours": ("business hour", "business hours"),
    "months": ("calendar month", "calendar months"),
}
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_UTC_NAMES = frozenset({"UTC", "Etc/UTC", "Etc/Universal", "Etc/Zulu", "Universal", "Zulu"})
# A calendar with no business day in ten years is misconfigured, not a long weekend.
_MAX_SEARCH_DAYS = 3660


# --------------------------------------------------------------------------- values


@dataclass(frozen=True)
class Period:
    """A length of time named in a clause.

    Attributes:
        count: How many units. At least 1, except that 0 elapsed ``hours`` is allowed
            (an obligation due at the event itself).
        unit: One of :data:`PeriodUnit`.
    """

    count: int
    unit: PeriodUnit

    def __post_init__(self) -> None:
        if self.unit not in get_args(PeriodUnit):
            raise ValueError(
                f"unknown period unit {self.unit!r}; use one of {get_args(PeriodUnit)}"
            )
        if isinstance(self.count, bool) or not isinstance(self.count, int):
            raise ValueError(f"period count must be a whole number, not {self.count!r}")
        minimum = 0 if self.unit == "hours" else 1
        if self.count < minimum:
            raise ValueError(f"a period of {self.unit} needs a count of at least {minimum}")

    def describe(self) -> str:
        """Returns e.g. "90 calendar days"."""
        one, many = _UNIT_WORDS[self.unit]
        return f"{self.count} {one if self.count == 1 else many}"


@dataclass(frozen=True)
class DeadlineRule:
    """How a clause turns an event into a deadline.

    Attributes:
        period: The length of the period.
        direction: "after" the anchor, or "before" it (e.g. a reminder before a date).
        roll: What happens when a day or month period ends on a non-business day.
            "forward" is NY GCL § 25 (next business day); "none" means time is of the
            essence (no extension); "backward" moves to the business day before, for
            reminders that must not be late.
        ends: For day and month units, when on the last day the deadline falls: at the
            end of the day (midnight after it), at its start (00:00), or at a local wall
            time. Ignored for hour units.
        label: What happens at the deadline, e.g. "Termination takes effect".
        clause_ref: Where the rule comes from, e.g. "MSA §10".
        fixed_because: With roll "none", why the day does not move, in words that
            finish "..., but <fixed_because>, so ..."; by default, time of the essence.
    """

    period: Period
    direction: Direction = "after"
    roll: Roll = "forward"
    ends: DayEnd | time = "end_of_day"
    label: str = "deadline"
    clause_ref: str = ""
    fixed_because: str = "the clause makes time of the essence"

    def __post_init__(self) -> None:
        if self.direction not in get_args(Direction):
            raise ValueError(f"direction must be 'after' or 'before', not {self.direction!r}")
        if self.roll not in get_args(Roll):
            raise ValueError(f"roll must be 'forward', 'backward' or 'none', not {self.roll!r}")
        if isinstance(self.ends, time):
            if self.ends.tzinfo is not None:
                raise ValueError("ends must be a local wall time without a time zone")
        elif self.ends not in get_args(DayEnd):
            raise ValueError(
                f"ends must be 'end_of_day', 'start_of_day' or a time, not {self.ends!r}"
            )


@dataclass(frozen=True)
class Anchor:
    """The event a period is counted from.

    Attributes:
        instant: When the event happened; must be timezone-aware.
        label: The event in words, e.g. "the termination notice was received".
        day: Count from this local date instead of the instant's local date. Use it
            when the anchor is an earlier deadline's last day, whose instant (the
            midnight ending that day) belongs to the next date.
    """

    instant: datetime
    label: str
    day: date | None = None

    def __post_init__(self) -> None:
        _require_aware(self.instant, "anchor instant")
        if isinstance(self.day, datetime):
            raise ValueError("anchor day must be a date, not a datetime")


@dataclass(frozen=True)
class ComputedDeadline:
    """A deadline and how it was reached.

    Attributes:
        due_at: The instant the timer should fire, in UTC.
        local_due: The same instant in the contract's time zone.
        last_day: For day and month units, the last day of the period after any roll;
            None for hour units.
        explanation: Plain-language steps, one per line.
    """

    due_at: datetime
    local_due: datetime
    last_day: date | None
    explanation: tuple[str, ...]

    @property
    def explanation_text(self) -> str:
        """The explanation steps joined with newlines."""
        return "\n".join(self.explanation)


# --------------------------------------------------------------------------- calendar


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
    """

    time_zone: str = "America/New_York"
    holidays: str = "US-NY"
    business_start: time = time(9)
    business_end: time = time(17)
    business_weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)
    extra_holidays: tuple[date, ...] = ()
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

    @classmethod
    def from_terms(cls, terms: Any, extra_holidays: Iterable[date] = ()) -> ContractCalendar:
        """Builds the calendar from a term sheet.

        Args:
            terms: A :class:`contracts.terms.TermSheet` or anything with ``time_zone``,
                ``holiday_calendar`` and ``business_hours.start/.end/.weekdays``.
            extra_holidays: Appointed days to add to the term sheet's calendar.

        Returns:
            The contract calendar.
        """
        hours = terms.business_hours
        return cls(
            time_zone=terms.time_zone,
            holidays=terms.holiday_calendar,
            business_start=hours.start,
            business_end=hours.end,
            business_weekdays=tuple(hours.weekdays),
            extra_holidays=tuple(extra_holidays),
        )

    @property
    def zone(self) -> ZoneInfo:
        """The contract's time zone."""
        return self._zone

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


# --------------------------------------------------------------------------- public helpers


def describe_day(d: date) -> str:
    """Formats a date for people, e.g. "Mon 1 Mar 2027" (independent of locale).

    Args:
        d: The date.

    Returns:
        Short weekday, day of month, short month and year.
    """
    return f"{_WEEKDAYS[d.weekday()][:3]} {d.day} {_MONTHS[d.month - 1]} {d.year}"


def describe_instant(instant: datetime, time_zone: str) -> str:
    """Formats an instant as local time, e.g. "Tue 1 Dec 2026 10:00 New York time".

    Seconds are shown only when non-zero. When the wall time occurs twice (the hour
    repeated when clocks go back), the zone abbreviation is added to tell them apart.

    Args:
        instant: A timezone-aware instant.
        time_zone: IANA zone to show it in; "UTC" gives "... 15:00 UTC".

    Returns:
        The description.

    Raises:
        ValueError: If ``instant`` is naive or the zone is unknown.
    """
    _require_aware(instant, "instant")
    zone = _zone(time_zone)
    local = instant.astimezone(zone)
    clock = f"{local.hour:02d}:{local.minute:02d}"
    if local.second or local.microsecond:
        clock += f":{local.second:02d}"
    text = f"{describe_day(local.date())} {clock} {_zone_label(time_zone)}"
    if local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset():
        text += f" ({local.tzname()})"
    return text


# --------------------------------------------------------------------------- computation


def compute_deadline(
    calendar: ContractCalendar, rule: DeadlineRule, anchor: Anchor
) -> ComputedDeadline:
    """Computes a deadline from an event under a rule, with a plain-language account.

    Day units (calendar_days, business_days) and months count local dates from the
    event day (excluded, NY GCL § 20), roll per ``rule.roll`` and then fall at
    ``rule.ends`` on the last day. ``hours`` are elapsed time in UTC and never roll.
    ``business_hours`` consume opening hours, skipping closed days; "before" counts
    business hours back from the anchor (e.g. notice due N business hours before
    maintenance starts).

    Args:
        calendar: The contract's calendar.
        rule: The clause's rule.
        anchor: The event.

    Returns:
        The deadline instant (UTC and local), the last day for day units, and the steps.
    """
    steps = [_event_step(calendar, anchor, rule.period.unit in _DAY_UNITS)]
    steps.append(_rule_step(rule, anchor))
    if rule.period.unit == "hours":
        due = _elapsed_hours(calendar, rule, anchor, steps)
        last_day = None
    elif rule.period.unit == "business_hours":
        due = _business_hours(calendar, rule, anchor, steps)
        last_day = None
    else:
        last_day, due = _day_period(calendar, rule, anchor, steps)
    return ComputedDeadline(
        due_at=due,
        local_due=due.astimezone(calendar.zone),
        last_day=last_day,
        explanation=tuple(steps),
    )


def _event_step(calendar: ContractCalendar, anchor: Anchor, counts_days: bool) -> str:
    tz = calendar.time_zone
    local = anchor.instant.astimezone(calendar.zone)
    utc = anchor.instant.astimezone(UTC)
    step = f"Event: {anchor.label} at {describe_instant(anchor.instant, tz)}"
    if utc.date() == local.date() or not counts_days:
        step += f" ({describe_instant(utc, 'UTC')})."
    else:
        step += (
            f". In UTC that is {describe_instant(utc, 'UTC')}, but days are counted by the"
            f" local date in the contract's time zone ({tz}), so the event day is"
            f" {describe_day(local.date())}."
        )
    if counts_days and anchor.day is not None and anchor.day != local.date():
        step += f" The count runs from {describe_day(anchor.day)}, the day given for this event."
    return step


def _rule_step(rule: DeadlineRule, anchor: Anchor) -> str:
    where = f" ({rule.clause_ref})" if rule.clause_ref else ""
    label = rule.label[:1].upper() + rule.label[1:]
    if rule.period.count == 0:
        return f"Rule{where}: {label} at the moment {anchor.label}."
    return f"Rule{where}: {label} {rule.period.describe()} {rule.direction} {anchor.label}."


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
    elif rule.period.unit == "business_days":
        last = _count_business_days(calendar, start, n, sign, steps)
    else:
        first = start + timedelta(days=sign)
        skipped: list[date] = []
        if n == 2:
            # § 20: in a two-day period an intervening non-business day is not counted.
            while not calendar.is_business_day(first):
                skipped.append(first)
                first += timedelta(days=sign)
        last = first + timedelta(days=sign * (n - 1))
        steps.append(
            f"Under NY GCL § 20 the event day, {describe_day(start)}, is excluded from the"
            f" count;{back} day 1 is {describe_day(first)} and day {n} is {describe_day(last)}."
        )
        if skipped:
            left_out = " and ".join(
                f"{describe_day(d)} ({calendar.why_not_business_day(d)})" for d in skipped
            )
            steps.append(
                "This is a period of two days, so under NY GCL § 20 the intervening"
                f" {left_out} {'is' if len(skipped) == 1 else 'are'} left out of the reckoning."
            )
    final = _roll(calendar, last, rule.roll, steps, rule.fixed_because)
    due = _day_end_instant(calendar, final, rule, steps)
    return final, due


def _count_business_days(
    calendar: ContractCalendar, start: date, n: int, sign: int, steps: list[str]
) -> date:
    d, counted, first = start, 0, start
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
        f"Under NY GCL § 20 the event day, {describe_day(start)}, is excluded from the"
        f" count. Counting only business days{back}, business day 1 is {describe_day(first)}"
        f" and business day {n} is {describe_day(d)}."
    )
    if holidays:
        named = "; ".join(f"{describe_day(h)} ({calendar.holiday_name(h)})" for h in holidays)
        steps.append(f"Public holidays skipped in the count: {named}.")
    return d


def _roll(
    calendar: ContractCalendar,
    last: date,
    roll: Roll,
    steps: list[str],
    fixed_because: str = "the clause makes time of the essence",
) -> date:
    if calendar.is_business_day(last):
        steps.append(f"{describe_day(last)} is a business day, so the period ends that day.")
        return last
    if roll == "none":
        steps.append(
            f"{describe_day(last)} is {calendar._not_business_phrase(last)}, but {fixed_because},"
            " so the period is not extended to the next business day"
            " (NY GCL § 25 does not apply)."
        )
        return last
    d = last
    while not calendar.is_business_day(d):
        if roll == "forward":
            steps.append(
                f"{describe_day(d)} is {calendar._not_business_phrase(d)}, so under NY GCL § 25"
                " the period runs to the next business day."
            )
            d += timedelta(days=1)
        else:
            steps.append(
                f"{describe_day(d)} is {calendar._not_business_phrase(d)}, so under this rule"
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
    label = rule.label[:1].upper() + rule.label[1:]
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
    steps.append(f"{label}: {when}: {describe_instant(due, tz)} ({describe_instant(due, 'UTC')}).")
    return due


def _elapsed_hours(
    calendar: ContractCalendar, rule: DeadlineRule, anchor: Anchor, steps: list[str]
) -> datetime:
    tz = calendar.time_zone
    sign = 1 if rule.direction == "after" else -1
    start = anchor.instant.astimezone(UTC)
    due = start + sign * timedelta(hours=rule.period.count)
    if rule.period.count == 0:
        steps.append(
            f"It falls exactly then: {describe_instant(due, tz)} ({describe_instant(due, 'UTC')}),"
            " whatever the day."
        )
        return due
    steps.append(
        f"Hours are elapsed time: {rule.period.describe()} {rule.direction} the event is"
        f" {describe_instant(due, tz)} ({describe_instant(due, 'UTC')}). The period is not"
        " moved for weekends or public holidays."
    )
    for when, before, after in _offset_changes(min(start, due), max(start, due), calendar.zone):
        shift = after - before
        way = "forward" if shift > timedelta(0) else "back"
        local_start = anchor.instant.astimezone(calendar.zone)
        local_due = due.astimezone(calendar.zone)
        change_day = describe_day(when.astimezone(calendar.zone).date())
        steps.append(
            f"The clocks in {_zone_label(tz).removesuffix(' time')} go {way}"
            f" {_describe_span(abs(shift))} on {change_day}"
            f" inside this interval, so the deadline's wall-clock time"
            f" ({local_due.strftime('%H:%M')}) differs from the event's"
            f" ({local_start.strftime('%H:%M')}); the elapsed time is still exactly"
            f" {rule.period.describe()}."
        )
    return due


def _business_hours(
    calendar: ContractCalendar, rule: DeadlineRule, anchor: Anchor, steps: list[str]
) -> datetime:
    zone = calendar.zone
    tz = calendar.time_zone
    forward = rule.direction == "after"
    step = timedelta(days=1 if forward else -1)
    steps.append(
        f"Business hours are {calendar.business_start.strftime('%H:%M')}-"
        f"{calendar.business_end.strftime('%H:%M')} {_zone_label(tz)} on"
        f" {_weekday_list(calendar.business_weekdays)}, except public holidays; only"
        " time inside them counts."
    )
    remaining = timedelta(hours=rule.period.count)
    cursor = anchor.instant.astimezone(UTC)
    day = cursor.astimezone(zone).date()
    first_counted: datetime | None = None
    for _ in range(_MAX_SEARCH_DAYS):
        if not calendar.is_business_day(day):
            phrase = calendar._not_business_phrase(day)
            steps.append(f"{describe_day(day)} is {phrase}: no business hours.")
            day += step
            continue
        opens = _local_to_utc(day, calendar.business_start, zone)
        closes = _local_to_utc(day, calendar.business_end, zone)
        if forward:
            cursor = max(cursor, opens)
            available = max(closes - cursor, timedelta(0))
        else:
            cursor = min(cursor, closes)
            available = max(cursor - opens, timedelta(0))
        used = min(available, remaining)
        if used:
            first_counted = first_counted or cursor
            span = (cursor, cursor + used) if forward else (cursor - used, cursor)
            steps.append(
                f"{describe_day(day)}: {_describe_span(used)} counted"
                f" ({_hhmm(span[0], zone)}-{_hhmm(span[1], zone)})."
            )
            remaining -= used
            cursor = span[1] if forward else span[0]
        if not remaining:
            break
        day += step
    else:
        raise ValueError("business hours could not be counted within ten years")
    if first_counted is not None and first_counted != anchor.instant:
        edge = "next opening" if forward else "last closing"
        steps.insert(
            3,
            "The event falls outside business hours, so counting starts at the"
            f" {edge}, {describe_instant(first_counted, tz)}.",
        )
    label = rule.label[:1].upper() + rule.label[1:]
    steps.append(f"{label}: {describe_instant(cursor, tz)} ({describe_instant(cursor, 'UTC')}).")
    return cursor


# --------------------------------------------------------------------------- time helpers


def _require_aware(value: datetime, what: str) -> None:
    if not isinstance(value, datetime):
        raise ValueError(f"{what} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware; got naive {value.isoformat()}")


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}; use an IANA name") from exc


def _zone_label(name: str) -> str:
    if name in _UTC_NAMES:
        return "UTC"
    return f"{name.rsplit('/', 1)[-1].replace('_', ' ')} time"


def _local_to_utc(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """Turns a local date and wall time into a UTC instant.

    A wall time that occurs twice (clocks going back) gives the first occurrence. One
    that does not exist (clocks going forward) gives the moment the clocks jump: the
    first instant at which the local clock has passed it.
    """
    naive = datetime.combine(day, wall.replace(tzinfo=None, fold=0))
    first = naive.replace(tzinfo=zone).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == naive:
        return first
    # In a gap fold=1 lands before the jump and fold=0 after it; bisect to the jump.
    lo, hi = naive.replace(tzinfo=zone, fold=1).astimezone(UTC), first
    if lo > hi:
        lo, hi = hi, lo
    while hi - lo > timedelta(microseconds=1):
        mid = lo + (hi - lo) / 2
        if mid.astimezone(zone).replace(tzinfo=None) >= naive:
            hi = mid
        else:
            lo = mid
    return hi


def _offset_changes(
    start: datetime, end: datetime, zone: ZoneInfo
) -> list[tuple[datetime, timedelta, timedelta]]:
    """Lists UTC-offset changes of ``zone`` in (start, end] as (instant, before, after)."""
    changes = []
    step = timedelta(hours=6)
    lo = start
    while lo < end:
        hi = min(lo + step, end)
        before, after = lo.astimezone(zone).utcoffset(), hi.astimezone(zone).utcoffset()
        if before != after and before is not None and after is not None:
            a, b = lo, hi
            while b - a > timedelta(seconds=1):
                mid = a + (b - a) / 2
                if mid.astimezone(zone).utcoffset() == before:
                    a = mid
                else:
                    b = mid
            changes.append((b, before, after))
        lo = hi
    return changes


def _add_months(d: date, months: int) -> date:
    # relativedelta clamps to the month's last day (31 Jan + 1 month is 28 or 29 Feb).
    return d + relativedelta(months=months)


def _describe_span(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    parts = []
    if hours:
        parts.append(f"{hours} hour{'s' if hours != 1 else ''}")
    if minutes or not hours:
        parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    return " ".join(parts)


def _hhmm(instant: datetime, zone: ZoneInfo) -> str:
    return instant.astimezone(zone).strftime("%H:%M")


def _weekday_list(weekdays: tuple[int, ...]) -> str:
    names = [_WEEKDAYS[d] for d in weekdays]
    if weekdays == tuple(range(weekdays[0], weekdays[-1] + 1)) and len(weekdays) > 2:
        return f"{names[0]} to {names[-1]}"
    return ", ".join(names)
