"""Relative dates of scenarios (docs/rulebooks.md, "Scenarios"): one-key mappings resolved
against a given ``now``, so a scenario holds on any day. Pure: no clock is read here.

- ``{at: now-1h}``: an instant; offsets in days, hours or minutes (``now+120h``,
  ``now-15m``), and ``@HH:MM`` for that wall-clock time, in the contract's zone, on the
  day reached (``now-3d@10:00``);
- ``{date: today-2d}``: a day in the contract's zone, from ``today`` or ``month_start``
  (the first of this month), offsets in days or months (``month_start-1mo``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

_OFFSET = re.compile(r"([+-])([0-9]+(?:\.[0-9]+)?)(mo|d|h|m)")
_AT_TIME = re.compile(r"@([0-9]{2}):([0-9]{2})$")


def resolve_facts(
    facts: Mapping[str, Any], *, now: dt.datetime, time_zone: str, zulu: bool = False
) -> dict[str, Any]:
    """``facts`` with every relative date resolved (see :func:`resolve`)."""
    return {
        name: resolve(value, now=now, time_zone=time_zone, zulu=zulu)
        for name, value in facts.items()
    }


def resolve(value: Any, *, now: dt.datetime, time_zone: str, zulu: bool = False) -> Any:
    """``value`` with a relative date (``{at: ...}`` or ``{date: ...}``) resolved.

    Instants come back in ISO 8601 UTC to the second (``+00:00``, or ``Z`` with
    ``zulu``), days as ``YYYY-MM-DD``; any other value as it is.

    Raises:
        ValueError: ``now`` is naive, ``time_zone`` unknown, or the spelling is not one
            the schema allows (the loader has refused it already).
    """
    if not isinstance(value, Mapping):
        return value
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    zone = ZoneInfo(time_zone)
    ((kind, spec),) = value.items()
    if kind == "at":
        instant = _instant(str(spec), now, zone).isoformat()
        return instant.replace("+00:00", "Z") if zulu else instant
    if kind == "date":
        return _day(str(spec), now.astimezone(zone).date()).isoformat()
    raise ValueError(f"not a relative date: {value!r}")


def _instant(spec: str, now: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    at = now.astimezone(dt.UTC).replace(microsecond=0)
    body = spec.removeprefix("now")
    wall = _AT_TIME.search(body)
    if wall:
        body = body[: wall.start()]
    for sign, amount, unit in _offsets(body, spec):
        step = {"d": "days", "h": "hours", "m": "minutes"}.get(unit)
        if step is None:
            raise ValueError(f"{spec!r}: an instant moves in d, h or m, not {unit}")
        at += int(f"{sign}1") * dt.timedelta(**{step: float(amount)})
    if wall:
        day = at.astimezone(zone).date()
        clock = dt.time(int(wall.group(1)), int(wall.group(2)))
        at = dt.datetime.combine(day, clock, tzinfo=zone).astimezone(dt.UTC)
    return at


def _day(spec: str, today: dt.date) -> dt.date:
    if spec.startswith("month_start"):
        day, body = today.replace(day=1), spec.removeprefix("month_start")
    elif spec.startswith("today"):
        day, body = today, spec.removeprefix("today")
    else:
        raise ValueError(f"{spec!r}: a relative date starts with today or month_start")
    for sign, amount, unit in _offsets(body, spec):
        count = int(f"{sign}{amount}")
        if unit == "d":
            day += dt.timedelta(days=count)
        elif unit == "mo":
            # The same day of the month, or the month's last day if it has fewer.
            day += relativedelta(months=count)
        else:
            raise ValueError(f"{spec!r}: a date moves in d or mo, not {unit}")
    return day


def _offsets(body: str, spec: str) -> list[tuple[str, str, str]]:
    found = _OFFSET.findall(body)
    if "".join(s + a + u for s, a, u in found) != body:
        raise ValueError(f"{spec!r}: offsets are like -1h, +120h, -2d, -1mo")
    return found
