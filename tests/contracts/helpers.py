"""What the calendar tests share: a deadline counted from a notice's receipt."""

from __future__ import annotations

from datetime import date, datetime

from contracts.calendar import (
    Anchor,
    ComputedDeadline,
    ContractCalendar,
    DeadlineRule,
    Period,
    compute_deadline,
)


def notice_deadline(
    cal: ContractCalendar,
    count: int,
    unit: str,
    received: datetime,
    *,
    day: date | None = None,
    **rule: object,
) -> ComputedDeadline:
    """The deadline ``count`` ``unit`` from a notice received at ``received`` (or on ``day``)."""
    return compute_deadline(
        cal,
        DeadlineRule(Period(count, unit), **rule),  # type: ignore[arg-type]
        Anchor(received, "the notice was received", day=day),
    )
