"""Calculators for the service levels (Exhibit A), security breaches (§6) and the term (§10).

Rules compare scalars only, so these turn the instants of a case into flags:

- ``maintenance_window``: whether a maintenance window is well formed, and the window in words;
- ``breach_notification``: whether the Customer was notified of a breach in time;
- ``incident_targets``: whether an incident's response and resolution met their targets,
  and whether the resolution target in force has already passed;
- ``term_dates``: the day the last contract year of the term begins, which a deadline can
  count 12 months from (a rulebook period cannot multiply ``term_years`` by 12; see the
  term_expiry rulebook).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from contracts.calculators import CalculationContext, DeadlineState, calculator, parse_instant
from contracts.calendar import describe_day, describe_instant


def _instant(value: Any) -> dt.datetime | None:
    if value in (None, ""):
        return None
    instant = parse_instant(value)
    if instant.tzinfo is None:
        raise ValueError(f"{value!r} has no UTC offset")
    return instant


def _latest_recorded(ctx: CalculationContext, fact: str, field: str) -> dt.datetime | None:
    """The ``field`` instant of the latest recording of ``fact``, or None."""
    for r in reversed(ctx.recorded):
        if r.fact == fact:
            return _instant(r.values.get(field))
    return None


@calculator(
    "maintenance_window",
    ("window_ends_after_start", "window_text"),
    "Whether a maintenance window ends after it starts, and the window in words (Exhibit A.1)",
)
def maintenance_window(ctx: CalculationContext) -> dict[str, Any]:
    """Checks the window and describes it in the contract's time zone."""
    starts = _instant(ctx.facts["window_starts_at"])
    ends = _instant(ctx.facts["window_ends_at"])
    assert starts is not None and ends is not None
    zone = ctx.terms.time_zone
    return {
        "window_ends_after_start": ends > starts,
        "window_text": f"from {describe_instant(starts, zone)} to {describe_instant(ends, zone)}",
    }


@calculator(
    "breach_notification",
    ("customer_notified_in_time",),
    "Whether the Customer was notified of a security breach by the deadline (MSA §6)",
)
def breach_notification(ctx: CalculationContext) -> dict[str, Any]:
    """Compares the recorded notification time with the notification deadline.

    None until ``customer_notified`` is recorded (a rule testing it then does not fire).
    """
    notified = _latest_recorded(ctx, "customer_notified", "notified_at")
    due = ctx.deadlines.get("notification_due")
    if notified is None or due is None:
        return {"customer_notified_in_time": None}
    return {"customer_notified_in_time": notified <= due.due_at}


def _resolution_target(ctx: CalculationContext) -> DeadlineState | None:
    """The resolution target in force: the extended one once set, else the original."""
    extended = ctx.deadlines.get("extended_resolution_due")
    if extended is not None and extended.status != "cancelled":
        return extended
    return ctx.deadlines.get("resolution_due")


@calculator(
    "incident_targets",
    ("response_in_time", "resolution_in_time", "resolution_target_passed"),
    "Whether an incident's response and resolution met their targets (Exhibit A.2, A.3)",
)
def incident_targets(ctx: CalculationContext) -> dict[str, Any]:
    """Judges the recorded response and resolution times against the targets.

    A resolution without a separate response counts as the response. The resolution
    target is the extended one when an extension is in force. Each flag is None until
    the time it judges is recorded.
    """
    resolved = _latest_recorded(ctx, "resolved", "resolved_at")
    responded = _latest_recorded(ctx, "responded", "responded_at") or resolved
    response_due = ctx.deadlines.get("response_due_business") or ctx.deadlines.get(
        "response_due_outside"
    )
    target = _resolution_target(ctx)
    return {
        "response_in_time": (
            None if responded is None or response_due is None else responded <= response_due.due_at
        ),
        "resolution_in_time": (
            None if resolved is None or target is None else resolved <= target.due_at
        ),
        "resolution_target_passed": target is not None and ctx.now >= target.due_at,
    }


@calculator(
    "term_dates",
    ("final_year_starts_on", "term_years", "term_last_day_text"),
    "Where the last contract year of the term begins, and the term's last day (MSA §10)",
)
def term_dates(ctx: CalculationContext) -> dict[str, Any]:
    """The first day of the term's last contract year, and the term's last day in words.

    The term runs ``term_years`` years from the effective date; the rulebook counts the
    final 12 calendar months from the start of the last contract year, so any term
    length works without a months figure in the term sheet. A 29 February effective date
    falls back to 28 February in a common year, as the calendar's month count does (so a
    term of a multiple of four years from 29 February ends at the start of 28 February).
    """
    effective = dt.date.fromisoformat(str(ctx.facts["effective_date"]))
    years = ctx.terms.clauses.term.term_years
    final_year = _add_years(effective, years - 1)
    anniversary = _add_years(effective, years)
    return {
        "final_year_starts_on": final_year.isoformat(),
        "term_years": years,
        "term_last_day_text": describe_day(anniversary - dt.timedelta(days=1)),
    }


def _add_years(d: dt.date, years: int) -> dt.date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February in a common year
        return d.replace(year=d.year + years, day=28)
