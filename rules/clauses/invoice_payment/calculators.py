"""The invoice's money position (MSA §3, Exhibit B.4): what is due after disputes and
payments, and the late interest. Pure: the arithmetic is contracts.money's."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from contracts.money import InvoiceFacts, invoice_standing, to_cents
from rules.calculators import CalculationContext, calculator, money


@calculator(
    "invoice_position",
    (
        "invoice_amount",
        "contested_amount",
        "uncontested_amount",
        "contested_amount_payable",
        "amount_due",
        "amount_paid",
        "amount_outstanding",
        "amount_overpaid",
        "total_outstanding",
        "fully_paid",
        "dispute_open",
        "days_past_due",
        "unpaid_since_due_date",
        "late_resolved_amount_unpaid",
        "late_interest",
        "late_interest_charged",
        "late_interest_explanation",
    ),
    "What is due on an invoice after disputes and payments, and the late interest (MSA §3)",
)
def invoice_position(ctx: CalculationContext) -> dict[str, Any]:
    """The money position of an invoice case (MSA §3, Exhibit B.4).

    The uncontested portion stays due on the payment terms (the ``payment_due`` deadline)
    while a dispute runs; a resolved dispute sets how much of the contested amount is
    payable after all. That amount falls due on the invoice's due date if the dispute was
    resolved by then, otherwise on the (local) day of the resolution: until the dispute
    was resolved the invoice was not "undisputed", so it could not be late.

    Payments are applied, in date order, first to late interest charged and unpaid on
    their date and then to principal (``contracts.money.interest_with_payments``); what
    overpays the first amount due goes to the contested amount found payable later.
    Interest runs from each amount's due date to the payment (or to today) at the
    contract rate compounded monthly, or the lawful maximum if lower.

    Outputs (money as decimal strings):
        amount_due: uncontested + contested amount found payable.
        amount_outstanding: principal not yet paid (after payments went to interest).
        late_interest / late_interest_charged: interest unpaid / charged to date.
        total_outstanding: amount_outstanding + late_interest.
        fully_paid: nothing outstanding and no dispute open, so the invoice is settled.
        days_past_due: days since the earliest due date of an amount still unpaid.
        unpaid_since_due_date: principal that fell due on the invoice's due date is
            unpaid and that date has passed (the §10 termination test).
        late_resolved_amount_unpaid: a contested amount found payable only after the due
            date is still unpaid (its periods cannot be timed by the case's deadlines).
    """
    zero = Decimal("0.00")
    zone = ctx.terms.zone
    today = ctx.now.astimezone(zone).date()

    def cents(value: Any) -> Decimal:
        return max(zero, to_cents(money(value)))

    invoice = cents(ctx.facts.get("invoice_amount"))
    contested = zero
    payable: Decimal | None = None
    resolved_on: dt.date | None = None
    payments: list[tuple[dt.date, Decimal]] = []
    for r in ctx.recorded:
        if r.fact == "dispute_raised":
            # A dispute cannot contest more than the invoice.
            contested = min(invoice, cents(r.values.get("contested_amount")))
            payable, resolved_on = None, None
        elif r.fact == "dispute_resolved" and contested > 0:
            payable = min(contested, cents(r.values.get("contested_amount_payable")))
            resolved_on = r.at.astimezone(zone).date()
        elif r.fact == "payment_received":
            amount = cents(r.values.get("amount"))
            if amount > 0:
                paid_on = r.values.get("paid_on")
                day = (
                    dt.date.fromisoformat(str(paid_on)) if paid_on else r.at.astimezone(zone).date()
                )
                payments.append((day, amount))
    # The figures are clamped above, so the dispute arithmetic never refuses them.
    facts = InvoiceFacts(invoice, contested, payable, resolved_on, tuple(payments))
    payment_due = ctx.deadlines.get("payment_due")
    due_day = payment_due.last_day if payment_due is not None else None
    standing = invoice_standing(
        facts,
        due_day,
        today,
        monthly_rate_percent=ctx.term("payment.late_interest_percent_per_month"),
        max_annual_rate_percent=ctx.term("payment.maximum_lawful_annual_rate_percent"),
    )
    uncontested, due = standing.uncontested, standing.due
    dispute_open = standing.dispute_open
    paid, outstanding, overpaid = standing.paid, standing.outstanding, standing.overpaid
    interest_unpaid, interest_charged = standing.interest_unpaid, standing.interest_charged
    statements = standing.statements
    past_due = [s for s in statements if s.outstanding_principal > 0 and today > s.due_date]
    days_past_due = max(((today - s.due_date).days for s in past_due), default=0)
    unpaid_since_due_date = bool(statements) and statements[0] in past_due
    late_resolved_unpaid = standing.late_resolution and statements[-1].outstanding_principal > 0
    explanation = ""
    if statements and (interest_charged > 0 or days_past_due > 0):
        parts = []
        for index, statement in enumerate(statements):
            if len(statements) > 1:
                parts.append(
                    "Amount due on the invoice's due date:"
                    if index == 0
                    else "Contested amount found payable after the due date, due on the "
                    "day the dispute was resolved:"
                )
            parts.extend(statement.explanation)
        explanation = "\n".join(parts)
    total = outstanding + interest_unpaid
    return {
        "invoice_amount": str(invoice),
        "contested_amount": str(contested),
        "uncontested_amount": str(uncontested),
        "contested_amount_payable": "" if payable is None else str(payable),
        "amount_due": str(due),
        "amount_paid": str(paid),
        "amount_outstanding": str(outstanding),
        "amount_overpaid": str(overpaid),
        "total_outstanding": str(total),
        "fully_paid": total == 0 and not dispute_open,
        "dispute_open": dispute_open,
        "days_past_due": days_past_due,
        "unpaid_since_due_date": unpaid_since_due_date,
        "late_resolved_amount_unpaid": late_resolved_unpaid,
        "late_interest": str(interest_unpaid),
        "late_interest_charged": str(interest_charged),
        "late_interest_explanation": explanation,
    }
