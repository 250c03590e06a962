"""Uptime over a calendar month in the contract's time zone (Exhibit A.1).

"Available ... at least ninety-nine point nine percent (99.9%) of the time during each
calendar month, excluding scheduled maintenance windows": the month is measured in
``TermSheet.time_zone`` in real elapsed time, maintenance windows come out of it, and the
percentage feeds ``contracts.money.credits``.
"""

from __future__ import annotations

import datetime as dt
from calendar import month_name
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from contracts.money.common import DECIMAL_CONTEXT, HUNDRED, number_text, pairs

UPTIME_PRECISION = Decimal("0.0001")

_MICROSECONDS_PER_MINUTE = Decimal(60_000_000)
_MINUTE_DISPLAY = Decimal("0.01")

_Interval = tuple[dt.datetime, dt.datetime]


@dataclass(frozen=True)
class MonthlyUptime:
    """Uptime over one calendar month in the contract's time zone (Exhibit A.1).

    Minute figures are rounded half up to 0.01 minute for display; the percentage is worked
    out from the exact durations.

    Attributes:
        year: The year.
        month: The month, 1 to 12.
        time_zone: The IANA time zone the month is measured in.
        minutes_in_month: Real elapsed minutes from the 1st to the 1st of the next month.
        excluded_minutes: Minutes of scheduled maintenance windows inside the month.
        measured_minutes: ``minutes_in_month - excluded_minutes``.
        downtime_minutes: Downtime counted: inside the month, outside maintenance windows.
        downtime_in_maintenance_minutes: Downtime that fell inside maintenance windows.
        uptime_percent: ``(measured - downtime) / measured x 100``, rounded half up to 0.0001.
        explanation: Plain-language lines.
    """

    year: int
    month: int
    time_zone: str
    minutes_in_month: Decimal
    excluded_minutes: Decimal
    measured_minutes: Decimal
    downtime_minutes: Decimal
    downtime_in_maintenance_minutes: Decimal
    uptime_percent: Decimal
    explanation: tuple[str, ...]


def _intervals(items: Sequence[_Interval], field: str) -> list[_Interval]:
    intervals = []
    for index, start, end in pairs(items, field, "(start, end)"):
        for name, moment in (("start", start), ("end", end)):
            if not isinstance(moment, dt.datetime):
                kind = type(moment).__name__
                raise TypeError(f"{field}[{index}].{name} must be a datetime, not {kind}")
            if moment.utcoffset() is None:
                raise ValueError(f"{field}[{index}].{name} must carry a time zone")
        if end < start:
            raise ValueError(f"{field}[{index}] ends before it starts")
        # Work in UTC: subtracting two datetimes in the same zone ignores clock changes.
        intervals.append((start.astimezone(dt.UTC), end.astimezone(dt.UTC)))
    return intervals


def _clip_and_merge(
    intervals: list[_Interval], start: dt.datetime, end: dt.datetime
) -> list[_Interval]:
    clipped = sorted((max(a, start), min(b, end)) for a, b in intervals if a < end and b > start)
    merged: list[_Interval] = []
    for a, b in clipped:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def _microseconds(span: dt.timedelta) -> int:
    return span // dt.timedelta(microseconds=1)


def _total(intervals: list[_Interval]) -> int:
    return sum(_microseconds(b - a) for a, b in intervals)


def _overlap(first: list[_Interval], second: list[_Interval]) -> int:
    # Both lists are merged, so overlaps never count the same moment twice.
    return sum(
        _microseconds(min(b, d) - max(a, c))
        for a, b in first
        for c, d in second
        if max(a, c) < min(b, d)
    )


def _minutes(microseconds: int) -> Decimal:
    return (Decimal(microseconds) / _MICROSECONDS_PER_MINUTE).quantize(
        _MINUTE_DISPLAY, rounding=ROUND_HALF_UP
    )


def monthly_uptime(
    month: tuple[int, int],
    time_zone: str,
    downtime: Sequence[_Interval],
    excluded_windows: Sequence[_Interval] = (),
    until: dt.datetime | None = None,
) -> MonthlyUptime:
    """Uptime for a calendar month in the contract's time zone (Exhibit A.1).

    The month runs from midnight on the 1st to midnight on the 1st of the next month in
    ``time_zone``, counted in real elapsed time (a month with a clock change is an hour
    shorter or longer). Uptime is measured over the month excluding scheduled maintenance
    windows: the windows' minutes come out of the total, and downtime inside them is not
    counted. Overlapping downtime is counted once and downtime outside the month is left
    out. Uptime = (measured minutes - counted downtime) / measured minutes x 100, rounded
    half up to 0.0001 of a percentage point. A month that is all maintenance is 100%.

    Args:
        month: ``(year, month)``, e.g. ``(2026, 3)``.
        time_zone: ``TermSheet.time_zone``, an IANA name such as ``America/New_York``.
        downtime: ``(start, end)`` pairs of time-zone-aware datetimes.
        excluded_windows: Scheduled maintenance windows, as ``(start, end)`` pairs of aware
            datetimes. Pass only windows noticed at least
            ``ServiceLevelTerms.maintenance_notice_hours`` ahead; others count as downtime.
        until: The agreement's end, when it falls inside the month: the month is measured
            from its start to this instant only (the final part-month).

    Returns:
        The minutes in the month, excluded, counted as downtime, and the uptime percentage.

    Raises:
        TypeError: If a bound is not a datetime or an interval is not a pair.
        ValueError: If the month or time zone is invalid, a datetime is naive, or an
            interval ends before it starts.
    """
    try:
        year, month_number = month
    except (TypeError, ValueError):
        raise TypeError("month must be a (year, month) pair") from None
    if not isinstance(year, int) or not isinstance(month_number, int):
        raise TypeError("month must be a (year, month) pair of ints")
    if not 1 <= month_number <= 12:
        raise ValueError(f"month must be 1 to 12 (got {month_number})")
    try:
        zone = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(f"unknown time zone {time_zone!r}") from None

    with localcontext(DECIMAL_CONTEXT):
        local_start = dt.datetime(year, month_number, 1, tzinfo=zone)
        next_year, next_month = (year + 1, 1) if month_number == 12 else (year, month_number + 1)
        local_end = dt.datetime(next_year, next_month, 1, tzinfo=zone)
        start, end = local_start.astimezone(dt.UTC), local_end.astimezone(dt.UTC)
        part = until is not None and until < end
        if until is not None:
            if until.utcoffset() is None:
                raise ValueError("until must carry a time zone")
            if until <= start:
                raise ValueError("until must fall after the month's start")
            end = min(end, until.astimezone(dt.UTC))
            local_end = end.astimezone(zone)

        windows = _clip_and_merge(_intervals(excluded_windows, "excluded_windows"), start, end)
        outages = _clip_and_merge(_intervals(downtime, "downtime"), start, end)
        in_month = _microseconds(end - start)
        excluded = _total(windows)
        measured = in_month - excluded
        in_maintenance = _overlap(outages, windows)
        counted = _total(outages) - in_maintenance
        # A month that is all maintenance has nothing measured, so no downtime can count.
        ratio = Decimal(measured - counted) / Decimal(measured) * HUNDRED if measured else HUNDRED
        uptime = ratio.quantize(UPTIME_PRECISION, rounding=ROUND_HALF_UP)

        def text(microseconds: int) -> str:
            return number_text(_minutes(microseconds))

        to_the_end = ", up to the agreement's end" if part else ""
        lines = [
            f"{month_name[month_number]} {year} in {time_zone}{to_the_end}: {text(in_month)} "
            f"minutes from {local_start:%Y-%m-%d %H:%M} to {local_end:%Y-%m-%d %H:%M} local "
            "time (real elapsed time, so a clock change shortens or lengthens the month).",
            f"Scheduled maintenance windows inside the month: {text(excluded)} minutes, "
            f"taken out of the total; {text(measured)} minutes measured.",
            f"Downtime inside the month, overlaps counted once: {text(counted + in_maintenance)} "
            f"minutes, of which {text(in_maintenance)} fell in maintenance windows and are not "
            f"counted: {text(counted)} minutes counted.",
        ]
        if measured:
            lines.append(
                f"Uptime = ({text(measured)} - {text(counted)}) / {text(measured)} x 100 = "
                f"{uptime:.4f}%, rounded half up to 0.0001 percentage point "
                "(minute figures shown rounded half up to 0.01 minute)."
            )
        else:
            lines.append(
                "The whole month was scheduled maintenance, so nothing was measured: uptime "
                "is taken as 100.0000%."
            )
        return MonthlyUptime(
            year=year,
            month=month_number,
            time_zone=time_zone,
            minutes_in_month=_minutes(in_month),
            excluded_minutes=_minutes(excluded),
            measured_minutes=_minutes(measured),
            downtime_minutes=_minutes(counted),
            downtime_in_maintenance_minutes=_minutes(in_maintenance),
            uptime_percent=uptime,
            explanation=tuple(lines),
        )
