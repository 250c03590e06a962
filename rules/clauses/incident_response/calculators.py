"""Which response target an incident has, and whether its targets were met (Exhibit A.2,
A.3). Rules compare scalars only, so these turn the case's instants into flags."""

from __future__ import annotations

from typing import Any

from contracts.calendar import calendar_for, describe_instant
from rules.calculators import CalculationContext, DeadlineState, calculator, parse_instant


@calculator(
    "incident_timing",
    ("reported_in_business_hours", "reported_at_text"),
    "Whether an incident was reported inside the contract's business hours (Exhibit A.2)",
)
def incident_timing(ctx: CalculationContext) -> dict[str, Any]:
    """Decides which response target applies: inside or outside business hours."""
    reported = parse_instant(ctx.facts["reported_at"])
    cal = calendar_for(ctx.terms)
    local = reported.astimezone(cal.zone)
    inside = cal.is_business_day(local.date()) and (
        cal.business_start <= local.time() < cal.business_end
    )
    return {
        "reported_in_business_hours": inside,
        "reported_at_text": describe_instant(reported, ctx.terms.time_zone),
    }


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
    resolved = ctx.latest_recorded("resolved", "resolved_at")
    responded = ctx.latest_recorded("responded", "responded_at") or resolved
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
