"""Local time and DST: aware instants, IANA zones, a local wall time as a UTC instant
(times the clocks skip or repeat), and the UTC-offset changes inside an interval."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


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
    return _first_instant(
        lo,
        hi,
        lambda t: t.astimezone(zone).replace(tzinfo=None) >= naive,
        timedelta(microseconds=1),
    )


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
            changes.append((_offset_change(lo, hi, zone), before, after))
        lo = hi
    return changes


def _offset_change(lo: datetime, hi: datetime, zone: ZoneInfo) -> datetime:
    """The instant, to the second, at which ``zone``'s UTC offset at ``lo`` ends."""
    before = lo.astimezone(zone).utcoffset()
    return _first_instant(
        lo, hi, lambda t: t.astimezone(zone).utcoffset() != before, timedelta(seconds=1)
    )


def _first_instant(
    lo: datetime, hi: datetime, reached: Callable[[datetime], bool], resolution: timedelta
) -> datetime:
    """Bisects (lo, hi] to the first instant at which ``reached`` holds, to ``resolution``.

    ``reached`` must be false at ``lo``, true at ``hi`` and stay true once it holds.
    """
    while hi - lo > resolution:
        mid = lo + (hi - lo) / 2
        if reached(mid):
            hi = mid
        else:
            lo = mid
    return hi
