"""Where one invoice stands on a date (MSA §3, Exhibit B.4): what is due after a dispute,
what payments covered, and the late interest. The invoice case's calculator and the
contract's money position both read it from here, so they never disagree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from contracts.money.common import NO_MONEY
from contracts.money.disputes import amount_due_after_dispute, uncontested_amount
from contracts.money.interest import DEFAULT_MAX_ANNUAL_RATE_PERCENT, DEFAULT_MONTHLY_RATE_PERCENT
from contracts.money.ledger import InterestStatement, interest_with_payments


@dataclass(frozen=True)
class InvoiceFacts:
    """What was recorded about an invoice, in cents, clamped to the invoice.

    Attributes:
        amount: The invoice total.
        contested: The amount disputed in writing (0 if none).
        payable: How much of the contested amount was found payable; None while a dispute
            is open or when there was none.
        resolved_on: The local day the dispute was resolved.
        payments: ``(day received, amount)`` pairs.
    """

    amount: Decimal
    contested: Decimal = NO_MONEY
    payable: Decimal | None = None
    resolved_on: dt.date | None = None
    payments: tuple[tuple[dt.date, Decimal], ...] = ()


@dataclass(frozen=True)
class InvoiceStanding:
    """An invoice on a date.

    Attributes:
        uncontested: The part never disputed.
        due: uncontested + contested amount found payable.
        resolved: The contested amount found payable.
        dispute_open: A dispute was raised and is not resolved.
        paid: All payments received.
        outstanding: Principal not yet paid (payments go to interest first).
        overpaid: Payments beyond everything owed.
        interest_unpaid: Late interest charged and not paid.
        interest_charged: All late interest charged.
        late_resolution: The contested amount was found payable after the due date, so it
            fell due on the day of the resolution.
        statements: One interest statement per amount and its own due date (none before
            the due date is known).
    """

    uncontested: Decimal
    due: Decimal
    resolved: Decimal
    dispute_open: bool
    paid: Decimal
    outstanding: Decimal
    overpaid: Decimal
    interest_unpaid: Decimal
    interest_charged: Decimal
    late_resolution: bool
    statements: tuple[InterestStatement, ...] = field(default=())

    @property
    def total_outstanding(self) -> Decimal:
        return self.outstanding + self.interest_unpaid


def invoice_standing(
    facts: InvoiceFacts,
    due_day: dt.date | None,
    as_of: dt.date,
    *,
    monthly_rate_percent: Decimal = DEFAULT_MONTHLY_RATE_PERCENT,
    max_annual_rate_percent: Decimal = DEFAULT_MAX_ANNUAL_RATE_PERCENT,
) -> InvoiceStanding:
    """Where an invoice stands on ``as_of``.

    The uncontested portion stays due on the payment terms while a dispute runs; a
    resolved dispute sets how much of the contested amount is payable after all. That
    amount falls due on the invoice's due date if the dispute was resolved by then,
    otherwise on the day of the resolution: until then the invoice was not "undisputed",
    so it could not be late. Payments go, in date order, first to interest charged and
    unpaid on their date, then to principal; what overpays the first amount goes to the
    later one on the day it was paid. Payments after ``as_of`` are left out.

    Args:
        facts: The invoice's recorded facts, in cents.
        due_day: The last day to pay (None: the due date is not known yet; no interest).
        as_of: The statement date.
        monthly_rate_percent: The contract rate (MSA §3).
        max_annual_rate_percent: The lawful maximum.

    Returns:
        The standing.
    """
    payments = [(day, amount) for day, amount in facts.payments if day <= as_of]
    if facts.payable is None:
        # No dispute, or one still open: the uncontested portion is what is due (MSA §3).
        uncontested = uncontested_amount(facts.amount, facts.contested)
        resolved, due = NO_MONEY, uncontested
    else:
        outcome = amount_due_after_dispute(facts.amount, facts.contested, facts.payable)
        uncontested, due = outcome.uncontested, outcome.amount_due
        resolved = outcome.contested_found_payable
    dispute_open = facts.contested > 0 and facts.payable is None
    paid = sum((amount for _, amount in payments), NO_MONEY)
    outstanding, overpaid = max(NO_MONEY, due - paid), max(NO_MONEY, paid - due)
    if due_day is None:
        return InvoiceStanding(
            uncontested, due, resolved, dispute_open, paid, outstanding, overpaid,
            NO_MONEY, NO_MONEY, False,
        )  # fmt: skip
    resolved_on = facts.resolved_on
    late = resolved > 0 and resolved_on is not None and resolved_on > due_day
    tranches = [(uncontested if late else due, due_day)]
    if late:
        assert resolved_on is not None
        tranches.append((resolved, resolved_on))
    remaining: Sequence[tuple[dt.date, Decimal]] = payments
    statements = []
    for principal, day in tranches:
        statement = interest_with_payments(
            principal,
            day,
            remaining,
            as_of,
            monthly_rate_percent=monthly_rate_percent,
            max_annual_rate_percent=max_annual_rate_percent,
        )
        statements.append(statement)
        # What overpaid this amount goes to the next one, on the day it was paid.
        remaining = [
            (entry.date, entry.overpayment)
            for entry in statement.ledger
            if entry.event == "payment" and entry.overpayment > 0
        ]
    return InvoiceStanding(
        uncontested=uncontested,
        due=due,
        resolved=resolved,
        dispute_open=dispute_open,
        paid=paid,
        outstanding=sum((s.outstanding_principal for s in statements), NO_MONEY),
        overpaid=statements[-1].overpayment,
        interest_unpaid=sum((s.accrued_interest for s in statements), NO_MONEY),
        interest_charged=sum((s.interest_charged for s in statements), NO_MONEY),
        late_resolution=late,
        statements=tuple(statements),
    )
