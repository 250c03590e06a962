"""How much notice a maintenance window got, and the window in words (Exhibit A.1)."""

from __future__ import annotations

from typing import Any

from contracts.calendar import describe_instant
from rules.calculators import CalculationContext, calculator, instant_or_none, parse_instant


@calculator(
    "maintenance_timing",
    ("notice_lead_hours", "notice_in_time", "required_notice_hours"),
    "How much notice a maintenance window gets, against the 72 hours required (Exhibit A.1)",
)
def maintenance_timing(ctx: CalculationContext) -> dict[str, Any]:
    """Hours between the notice (the case's opening) and the window's start, and if enough."""
    starts = parse_instant(ctx.facts["window_starts_at"])
    required = ctx.term("service_levels.maintenance_notice_hours")
    # The notice goes out when the case opens, so measure from then on every event.
    lead = (starts - ctx.opened_at).total_seconds() / 3600
    return {
        "notice_lead_hours": int(lead // 1),
        "notice_in_time": lead >= required,
        "required_notice_hours": required,
    }


@calculator(
    "maintenance_window",
    ("window_ends_after_start", "window_text"),
    "Whether a maintenance window ends after it starts, and the window in words (Exhibit A.1)",
)
def maintenance_window(ctx: CalculationContext) -> dict[str, Any]:
    """Checks the window and describes it in the contract's time zone."""
    starts = instant_or_none(ctx.facts["window_starts_at"])
    ends = instant_or_none(ctx.facts["window_ends_at"])
    assert starts is not None and ends is not None
    zone = ctx.terms.time_zone
    return {
        "window_ends_after_start": ends > starts,
        "window_text": f"from {describe_instant(starts, zone)} to {describe_instant(ends, zone)}",
    }


@calculator(
    "maintenance_notice_receipt",
    ("notice_received_in_time", "notice_received_lead_hours"),
    "Whether the Provider's maintenance notice, as recorded received, came the required "
    "hours before the window (Exhibit A.1)",
)
def maintenance_notice_receipt(ctx: CalculationContext) -> dict[str, Any]:
    """The latest recorded arrival of the Provider's notice against the time it was due.

    None until ``maintenance_notice_received`` is recorded (a rule testing it then does
    not fire). Measured against the window's start, as the notice_due deadline is.
    """
    received = ctx.latest_recorded("maintenance_notice_received", "received_at")
    if received is None:
        return {"notice_received_in_time": None, "notice_received_lead_hours": None}
    starts = parse_instant(ctx.facts["window_starts_at"])
    lead = (starts - received).total_seconds() / 3600
    return {
        "notice_received_in_time": lead >= ctx.term("service_levels.maintenance_notice_hours"),
        "notice_received_lead_hours": int(lead // 1),
    }


@calculator(
    "maintenance_notice_given_at",
    ("notice_given_at",),
    "When the Customer had the maintenance notice: its recorded arrival, or, from the "
    "Provider's side, the case's opening, when our notice goes out (Exhibit A.1)",
)
def maintenance_notice_given_at(ctx: CalculationContext) -> dict[str, Any]:
    """The moment the month's review measures the notice from (what the case tells it)."""
    received = ctx.latest_recorded("maintenance_notice_received", "received_at")
    if received is None and ctx.terms.our_side == "customer":
        return {"notice_given_at": None}  # not received: nothing to measure from
    return {"notice_given_at": (received or ctx.opened_at).isoformat()}
