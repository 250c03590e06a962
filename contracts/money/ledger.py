"""Late interest on an overdue amount paid off in parts (MSA §3): a ledger, as of a date.

Each payment goes first to interest charged and unpaid on its date, then to principal;
what is left over is an overpayment. Both limbs of ``contracts.money.interest`` run over
the same history, and the lower is charged. ``invoice_position``
(rules/clauses/invoice_payment/calculators.py) reads the invoice's position from here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext

from contracts.money.common import (
    DECIMAL_CONTEXT,
    NO_MONEY,
    ZERO,
    amount_text,
    as_date,
    as_money,
    as_percent,
    pairs,
)
from contracts.money.interest import (
    DEFAULT_MAX_ANNUAL_RATE_PERCENT,
    DEFAULT_MONTHLY_RATE_PERCENT,
    InterestLimb,
    anniversary,
    contract_rate_interest,
    lawful_maximum_interest,
    method_lines,
)


@dataclass(frozen=True)
class LedgerEntry:
    """One line of an interest ledger.

    Attributes:
        date: When it happened.
        event: ``"due"``, ``"month end"``, ``"payment"`` or ``"statement"``.
        paid: The payment received (0 for other events).
        to_interest: Part of the payment applied to unpaid interest.
        to_principal: Part of the payment applied to principal.
        overpayment: Part of the payment left over once everything owed was paid.
        interest_charged: Interest charged from the due date to this date (lesser limb).
        interest_unpaid: Interest charged and not yet paid, after this line.
        principal_outstanding: Principal not yet paid, after this line.
        note: A plain-language description of the line.
    """

    date: dt.date
    event: str
    paid: Decimal
    to_interest: Decimal
    to_principal: Decimal
    overpayment: Decimal
    interest_charged: Decimal
    interest_unpaid: Decimal
    principal_outstanding: Decimal
    note: str


@dataclass(frozen=True)
class InterestStatement:
    """Where an overdue amount stands on a date, after partial payments.

    Attributes:
        principal: The amount originally due.
        due_date: When it fell due.
        as_of: The statement date.
        outstanding_principal: Principal still unpaid on ``as_of``.
        accrued_interest: Interest charged and still unpaid on ``as_of``.
        total_outstanding: ``outstanding_principal + accrued_interest``.
        interest_charged: All interest charged from the due date to ``as_of``.
        interest_paid: Payments applied to interest.
        principal_paid: Payments applied to principal.
        overpayment: Payments beyond everything owed (a credit to the payer).
        limb: Which limb set ``interest_charged``.
        ledger: The due date, each month end, each payment and the statement date.
        explanation: Plain-language lines.
    """

    principal: Decimal
    due_date: dt.date
    as_of: dt.date
    outstanding_principal: Decimal
    accrued_interest: Decimal
    total_outstanding: Decimal
    interest_charged: Decimal
    interest_paid: Decimal
    principal_paid: Decimal
    overpayment: Decimal
    limb: InterestLimb
    ledger: tuple[LedgerEntry, ...]
    explanation: tuple[str, ...]


class _Accrual:
    """Runs both interest limbs day by day between events, for a ledger with payments."""

    def __init__(self, principal: Decimal, due_date: dt.date, rate: Decimal, cap: Decimal):
        self.principal = principal
        self.due_date = due_date
        self.rate = rate
        self.cap = cap
        self.cursor = due_date
        self.month_index = 0
        # The current interest month; both ends are worked out once per month.
        self.month_start, self.month_end = due_date, anniversary(due_date, 1)
        # Balance x days within the current interest month, for limb (a).
        self.month_balance_days = ZERO
        # Contract-rate interest of the interest months already closed, each in cents.
        self.contract_closed = NO_MONEY
        # Principal x days since the due date, for limb (b).
        self.principal_days = ZERO
        self.interest_paid = NO_MONEY
        self.principal_paid = NO_MONEY
        self.overpayment = NO_MONEY
        self.ledger: list[LedgerEntry] = []

    def _days_in_month(self) -> int:
        return (self.month_end - self.month_start).days

    def contract_to_date(self) -> Decimal:
        part = contract_rate_interest(self.month_balance_days, self.rate, self._days_in_month())
        return self.contract_closed + part

    def maximum_to_date(self) -> Decimal:
        return lawful_maximum_interest(self.principal_days, self.cap)

    def charged(self) -> Decimal:
        return min(self.contract_to_date(), self.maximum_to_date())

    def limb(self) -> InterestLimb:
        if self.contract_to_date() <= self.maximum_to_date():
            return InterestLimb.CONTRACT_RATE
        return InterestLimb.LAWFUL_MAXIMUM

    def advance_to(self, when: dt.date) -> None:
        while self.cursor < when:
            stop = min(when, self.month_end)
            days = (stop - self.cursor).days
            # Limb (a) compounds: unpaid interest of closed months bears interest too.
            # Limb (b) is simple: principal only.
            unpaid_closed = max(self.contract_closed - self.interest_paid, ZERO)
            self.month_balance_days += (self.principal + unpaid_closed) * days
            self.principal_days += self.principal * days
            self.cursor = stop
            if stop == self.month_end:
                self.contract_closed += contract_rate_interest(
                    self.month_balance_days, self.rate, self._days_in_month()
                )
                self.month_balance_days = ZERO
                self.month_index += 1
                self.month_start = self.month_end
                self.month_end = anniversary(self.due_date, self.month_index + 1)
                self.record(stop, "month end", note=f"Interest month {self.month_index} ends.")

    def pay(self, when: dt.date, amount: Decimal) -> LedgerEntry:
        self.advance_to(when)
        unpaid = self.charged() - self.interest_paid
        to_interest = min(amount, unpaid)
        to_principal = min(amount - to_interest, self.principal)
        overpayment = amount - to_interest - to_principal
        self.interest_paid += to_interest
        self.principal -= to_principal
        self.principal_paid += to_principal
        self.overpayment += overpayment
        early = ""
        if when <= self.due_date:
            early = " (on or before the due date, so no interest had accrued)"
        note = (
            f"Payment of {amount_text(amount)}{early}: {amount_text(to_interest)} to interest, "
            f"{amount_text(to_principal)} to principal"
            + (f", {amount_text(overpayment)} overpaid" if overpayment else "")
            + f"; principal now {amount_text(self.principal)}."
        )
        return self.record(when, "payment", amount, to_interest, to_principal, overpayment, note)

    def record(
        self,
        when: dt.date,
        event: str,
        paid: Decimal = NO_MONEY,
        to_interest: Decimal = NO_MONEY,
        to_principal: Decimal = NO_MONEY,
        overpayment: Decimal = NO_MONEY,
        note: str = "",
    ) -> LedgerEntry:
        charged = self.charged()
        entry = LedgerEntry(
            date=when,
            event=event,
            paid=paid,
            to_interest=to_interest,
            to_principal=to_principal,
            overpayment=overpayment,
            interest_charged=charged,
            interest_unpaid=charged - self.interest_paid,
            principal_outstanding=self.principal,
            note=note,
        )
        self.ledger.append(entry)
        return entry


def _parse_payments(payments: Sequence[tuple[dt.date, Decimal]]) -> list[tuple[dt.date, Decimal]]:
    parsed = []
    for index, when, amount in pairs(payments, "payments", "(date, Decimal)"):
        when = as_date(when, f"payments[{index}].date")
        amount = as_money(amount, f"payments[{index}].amount")
        if amount == 0:
            raise ValueError(f"payments[{index}].amount must be more than zero")
        parsed.append((when, amount))
    # Stable sort: payments on the same day are applied in the order given.
    return sorted(parsed, key=lambda payment: payment[0])


def interest_with_payments(
    principal: Decimal,
    due_date: dt.date,
    payments: Sequence[tuple[dt.date, Decimal]],
    as_of: dt.date,
    *,
    monthly_rate_percent: Decimal = DEFAULT_MONTHLY_RATE_PERCENT,
    max_annual_rate_percent: Decimal = DEFAULT_MAX_ANNUAL_RATE_PERCENT,
) -> InterestStatement:
    """Late interest on an overdue amount paid off in parts (MSA §3), as of a date.

    Each payment is applied first to interest charged and unpaid on its date, then to
    principal; anything left over is recorded as an overpayment. Interest charged from the
    due date to any date is the lesser of two running totals over the same history:

    * (a) the contract rate, compounded monthly: within each interest month (due date to
      the same day of the next month) interest accrues day by day, pro rata over the actual
      days in that month, on principal outstanding plus contract-rate interest of earlier
      months not yet paid; each month's total is rounded half up to the cent at its end, and
      an unfinished month is rounded half up to the cent on the date it is read;
    * (b) simple interest at the maximum annual rate on the principal outstanding each day
      (actual/365), rounded down to the cent.

    With no payments this is the plain §3 calculation: whole interest months compounded,
    then a final part month pro rata by days. Payments dated after ``as_of`` are left out
    (and listed in the explanation); payments on or before the due date go wholly to
    principal. An ``as_of`` on or before the due date
    charges no interest.

    Args:
        principal: The overdue amount, in whole cents, not negative.
        due_date: The date payment was due.
        payments: ``(date, amount)`` pairs; amounts in whole cents and more than zero.
        as_of: The statement date.
        monthly_rate_percent: ``PaymentTerms.late_interest_percent_per_month`` (1 = 1%).
        max_annual_rate_percent: ``PaymentTerms.maximum_lawful_annual_rate_percent``.

    Returns:
        The outstanding principal, unpaid interest and a ledger.

    Raises:
        TypeError: If an amount or rate is a float, a date is not a ``datetime.date`` or a
            payment is not a pair.
        ValueError: If the principal, a payment or a rate is negative, a payment is zero,
            or an amount has fractions of a cent.
    """
    with localcontext(DECIMAL_CONTEXT):
        principal = as_money(principal, "principal")
        due_date = as_date(due_date, "due_date")
        as_of = as_date(as_of, "as_of")
        rate = as_percent(monthly_rate_percent, "monthly_rate_percent")
        cap = as_percent(max_annual_rate_percent, "max_annual_rate_percent")
        ordered = _parse_payments(payments)
        counted = [payment for payment in ordered if payment[0] <= as_of]
        left_out = [payment for payment in ordered if payment[0] > as_of]

        accrual = _Accrual(principal, due_date, rate, cap)
        lines = [
            f"Principal {amount_text(principal)} fell due on {due_date.isoformat()}; "
            f"statement as of {as_of.isoformat()}.",
            "Each payment is applied first to interest charged and unpaid on its date, then "
            "to principal; any excess is recorded as an overpayment.",
            *method_lines(rate, cap),
            "With part payments both limbs are run over the same history: limb (a) on "
            "principal plus unpaid contract-rate interest of earlier months, limb (b) on the "
            "principal outstanding each day; interest charged to any date is the lower total.",
        ]
        # Payments before the due date come first so the ledger reads in date order.
        for when, amount in [payment for payment in counted if payment[0] < due_date]:
            entry = accrual.pay(when, amount)
            lines.append(f"{when.isoformat()}: {entry.note}")
        if as_of >= due_date:
            accrual.record(due_date, "due", note=f"{amount_text(accrual.principal)} falls due.")
        for when, amount in [payment for payment in counted if payment[0] >= due_date]:
            entry = accrual.pay(when, amount)
            lines.append(f"{when.isoformat()}: {entry.note}")
        for when, amount in left_out:
            lines.append(
                f"{when.isoformat()}: payment of {amount_text(amount)} is after the statement "
                "date and is not counted."
            )
        accrual.advance_to(as_of)
        final = accrual.record(as_of, "statement", note="Statement date.")
        limb = accrual.limb()
        lines.append(
            f"As of {as_of.isoformat()}: interest charged {amount_text(final.interest_charged)} "
            f"(set by the {limb.value}), of which {amount_text(accrual.interest_paid)} paid "
            f"and {amount_text(final.interest_unpaid)} unpaid; principal outstanding "
            f"{amount_text(final.principal_outstanding)}; total outstanding "
            f"{amount_text(final.principal_outstanding + final.interest_unpaid)}."
        )
        if accrual.overpayment:
            lines.append(f"Overpaid: {amount_text(accrual.overpayment)}.")

        return InterestStatement(
            principal=principal,
            due_date=due_date,
            as_of=as_of,
            outstanding_principal=final.principal_outstanding,
            accrued_interest=final.interest_unpaid,
            total_outstanding=final.principal_outstanding + final.interest_unpaid,
            interest_charged=final.interest_charged,
            interest_paid=accrual.interest_paid,
            principal_paid=accrual.principal_paid,
            overpayment=accrual.overpayment,
            limb=limb,
            ledger=tuple(accrual.ledger),
            explanation=tuple(lines),
        )
