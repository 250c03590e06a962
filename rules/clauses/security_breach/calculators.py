"""Whether the Customer was notified of a security breach in time (MSA §6)."""

from __future__ import annotations

from typing import Any

from rules.calculators import CalculationContext, calculator


@calculator(
    "breach_notification",
    ("customer_notified_in_time",),
    "Whether the Customer was notified of a security breach by the deadline (MSA §6)",
)
def breach_notification(ctx: CalculationContext) -> dict[str, Any]:
    """Compares the recorded notification time with the notification deadline.

    None until ``customer_notified`` is recorded (a rule testing it then does not fire).
    """
    notified = ctx.latest_recorded("customer_notified", "notified_at")
    due = ctx.deadlines.get("notification_due")
    if notified is None or due is None:
        return {"customer_notified_in_time": None}
    return {"customer_notified_in_time": notified <= due.due_at}
