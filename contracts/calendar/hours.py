"""Hour periods: elapsed hours (UTC, never rolled, DST changes explained) and business
hours (only opening hours count, counted forwards or back)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from contracts.calendar.business import _MAX_SEARCH_DAYS, ContractCalendar
from contracts.calendar.describing import (
    _capitalised,
    _describe_span,
    _hhmm,
    _local_and_utc,
    _weekday_list,
    _zone_label,
    describe_day,
    describe_instant,
)
from contracts.calendar.localtime import _local_to_utc, _offset_changes
from contracts.calendar.model import Anchor, DeadlineRule


def _elapsed_hours(
    calendar: ContractCalendar, rule: DeadlineRule, anchor: Anchor, steps: list[str]
) -> datetime:
    tz = calendar.time_zone
    sign = 1 if rule.direction == "after" else -1
    start = anchor.instant.astimezone(UTC)
    due = start + sign * timedelta(hours=rule.period.count)
    if rule.period.count == 0:
        steps.append(f"It falls exactly then: {_local_and_utc(due, tz)}, whatever the day.")
        return due
    steps.append(
        f"Hours are elapsed time: {rule.period.describe()} {rule.direction} the event is"
        f" {_local_and_utc(due, tz)}. The period is not moved for weekends or public holidays."
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
    label = _capitalised(rule.label)
    steps.append(f"{label}: {_local_and_utc(cursor, tz)}.")
    return cursor
