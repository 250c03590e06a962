"""Dates, instants, zones, spans and weekdays in words, as the explanations show them:
``describe_day`` ("Mon 1 Mar 2027"), ``describe_instant`` ("... 10:00 New York time") and
``describe_deadline`` ("end of Thu 31 Dec 2026, New York time" for a day that runs out)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from contracts.calendar.localtime import _local_to_utc, _require_aware, _zone

_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_UTC_NAMES = frozenset({"UTC", "Etc/UTC", "Etc/Universal", "Etc/Zulu", "Universal", "Zulu"})


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


def ends_its_last_day(due_at: datetime, last_day: date | None, time_zone: str) -> bool:
    """Whether a deadline runs to the end of its last day: due at the local midnight
    that ends ``last_day`` (or, where the clocks skip that midnight, at the jump).

    Such a deadline means "by the end of that day", though its instant is the next
    day's first moment. One due at the midnight that starts its last day, or with no
    last day (an hours period), is not one.

    Args:
        due_at: The deadline's instant, timezone-aware.
        last_day: Its last day, in the contract's time zone, if it has one.
        time_zone: The contract's IANA zone.

    Raises:
        ValueError: If ``due_at`` is naive or the zone is unknown.
    """
    _require_aware(due_at, "due_at")
    zone = _zone(time_zone)
    if last_day is None:
        return False
    # As the calendar computes it (rolling._day_end_instant), so the two always agree.
    return due_at == _local_to_utc(last_day + timedelta(days=1), time(0), zone)


def describe_deadline(due_at: datetime, last_day: date | None, time_zone: str) -> str:
    """A deadline's due time for people, e.g. "end of Thu 31 Dec 2026, New York time".

    A deadline that runs to the end of its last day (:func:`ends_its_last_day`) reads as
    that day, the day its notice names, not as the midnight that follows it; any other
    reads as :func:`describe_instant`.

    Args:
        due_at: The deadline's instant, timezone-aware.
        last_day: Its last day in the contract's time zone, if it has one.
        time_zone: The contract's IANA zone.

    Returns:
        The description.

    Raises:
        ValueError: If ``due_at`` is naive or the zone is unknown.
    """
    if last_day is not None and ends_its_last_day(due_at, last_day, time_zone):
        return f"end of {describe_day(last_day)}, {_zone_label(time_zone)}"
    return describe_instant(due_at, time_zone)


def _local_and_utc(instant: datetime, time_zone: str) -> str:
    """An instant as the steps show it: local time, then UTC in brackets."""
    return f"{describe_instant(instant, time_zone)} ({describe_instant(instant, 'UTC')})"


def _capitalised(label: str) -> str:
    # A rule's label starts a step; str.capitalize() would lower the rest ("MSA", names).
    return label[:1].upper() + label[1:]


def _zone_label(name: str) -> str:
    if name in _UTC_NAMES:
        return "UTC"
    return f"{name.rsplit('/', 1)[-1].replace('_', ' ')} time"


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
