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


@calculator(
    "breach_notification_receipt",
    ("notification_received_in_time",),
    "Whether the Provider's notification of a security breach, as recorded received, came "
    "by the deadline (MSA §6)",
)
def breach_notification_receipt(ctx: CalculationContext) -> dict[str, Any]:
    """From the Customer's side: the recorded arrival of the Provider's notification
    against the notification deadline.

    None until ``breach_notification_received`` is recorded (a rule testing it then does
    not fire).
    """
    received = ctx.latest_recorded("breach_notification_received", "received_at")
    due = ctx.deadlines.get("notification_due")
    if received is None or due is None:
        return {"notification_received_in_time": None}
    return {"notification_received_in_time": received <= due.due_at}
