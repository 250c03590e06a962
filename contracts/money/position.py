"""The contract's money across the agreement: its ledger, the liability cap (MSA §9) and
the final settlement on termination (MSA §10). Pure: the caller gathers what was recorded
(invoices, payments, disputes, service credits) and this works out the figures, each with
a line of explanation, in Decimal cents.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from dateutil.relativedelta import relativedelta

from contracts.calendar.describing import describe_day
from contracts.money.common import CENT, NO_MONEY, amount_text
from contracts.money.interest import DEFAULT_MAX_ANNUAL_RATE_PERCENT, DEFAULT_MONTHLY_RATE_PERCENT
from contracts.money.invoices import InvoiceFacts, InvoiceStanding, invoice_standing

#: §9 of the reference MSA. No rulebook declares a liability heading, so a term sheet
#: cannot vary these yet; reading them from an agreement's own text is issue 16's.
LIABILITY_SECTION = "9"
LIABILITY_CAP_MONTHS = 12


@dataclass(frozen=True)
class InvoiceOnRecord:
    """An invoice the contract's invoice cases hold.

    Attributes:
        case_id: Its case.
        reference: The invoice number, or the case id when it has none.
        received_on: The day the Customer received it (the contract's zone).
        due_day: The last day to pay (None while the case has not set it).
        facts: What was recorded: total, dispute, payments.
    """

    case_id: str
    reference: str
    received_on: dt.date
    due_day: dt.date | None
    facts: InvoiceFacts


@dataclass(frozen=True)
class CreditOnRecord:
    """A service credit a month's SLA review found due (Exhibit A.4)."""

    case_id: str
    month: dt.date  # its first day
    amount: Decimal


@dataclass(frozen=True)
class MoneyLine:
    """One line of a ledger or statement: a signed amount (what the Customer owes grows
    with a positive one) and why."""

    day: dt.date | None
    kind: str
    amount: Decimal
    explanation: str
    case_id: str | None = None


@dataclass(frozen=True)
class LiabilityCap:
    """The Provider's liability cap for a claim whose event falls on ``event_day``."""

    event_day: dt.date
    counted_from: dt.date
    counted_to: dt.date
    amount: Decimal
    payments: tuple[MoneyLine, ...]
    explanation: tuple[str, ...]


@dataclass(frozen=True)
class Settlement:
    """What is owed when the agreement ends (§10); ``total`` > 0: the Customer pays."""

    ends_on: dt.date
    last_service_day: dt.date
    lines: tuple[MoneyLine, ...]
    total: Decimal
    explanation: tuple[str, ...]


@dataclass(frozen=True)
class Rates:
    """The contract's late-interest figures (MSA §3)."""

    monthly_percent: Decimal = DEFAULT_MONTHLY_RATE_PERCENT
    max_annual_percent: Decimal = DEFAULT_MAX_ANNUAL_RATE_PERCENT


def standing_of(invoice: InvoiceOnRecord, as_of: dt.date, rates: Rates) -> InvoiceStanding:
    return invoice_standing(
        invoice.facts,
        invoice.due_day,
        as_of,
        monthly_rate_percent=rates.monthly_percent,
        max_annual_rate_percent=rates.max_annual_percent,
    )


def _month_name(day: dt.date) -> str:
    return f"{calendar.month_name[day.month]} {day.year}"


def ledger(
    invoices: Sequence[InvoiceOnRecord],
    credits: Sequence[CreditOnRecord],
    as_of: dt.date,
    rates: Rates = Rates(),
) -> tuple[MoneyLine, ...]:
    """Every invoice, payment, interest charge and service credit up to ``as_of``, by day.

    Late interest is one line per invoice: what was charged from its due date to
    ``as_of``. A dispute still open is a line of its own, of no amount: the contested
    part is not owed until it is resolved.
    """
    lines: list[MoneyLine] = []
    for inv in invoices:
        if inv.received_on > as_of:
            continue
        due = f", due by the end of {describe_day(inv.due_day)}" if inv.due_day else ""
        lines.append(
            MoneyLine(
                inv.received_on, "invoice", inv.facts.amount,
                f"Invoice {inv.reference} received{due}: {amount_text(inv.facts.amount)}.",
                inv.case_id,
            )
        )  # fmt: skip
        for day, amount in sorted(inv.facts.payments):
            if day <= as_of:
                lines.append(
                    MoneyLine(
                        day, "payment", -amount,
                        f"Payment of {amount_text(amount)} against invoice {inv.reference}.",
                        inv.case_id,
                    )
                )  # fmt: skip
        standing = standing_of(inv, as_of, rates)
        if standing.dispute_open:
            lines.append(
                MoneyLine(
                    inv.received_on, "dispute", NO_MONEY,
                    f"{amount_text(inv.facts.contested)} of invoice {inv.reference} is disputed; "
                    "it is not owed until the dispute is resolved.",
                    inv.case_id,
                )
            )  # fmt: skip
        elif standing.due < inv.facts.amount:
            lines.append(
                MoneyLine(
                    inv.facts.resolved_on, "dispute", standing.due - inv.facts.amount,
                    f"The dispute over invoice {inv.reference} was resolved: "
                    f"{amount_text(inv.facts.amount - standing.due)} is not payable.",
                    inv.case_id,
                )
            )  # fmt: skip
        if standing.interest_charged > 0:
            lines.append(
                MoneyLine(
                    as_of, "interest", standing.interest_charged,
                    f"Late interest on invoice {inv.reference} from its due date to "
                    f"{describe_day(as_of)}: {amount_text(standing.interest_charged)}.",
                    inv.case_id,
                )
            )  # fmt: skip
    for credit in credits:
        month_end = credit.month + relativedelta(months=1) - dt.timedelta(days=1)
        if month_end < as_of:
            lines.append(
                MoneyLine(
                    month_end, "service_credit", -credit.amount,
                    f"Service credit for {_month_name(credit.month)} (Exhibit A.4): "
                    f"{amount_text(credit.amount)}.",
                    credit.case_id,
                )
            )  # fmt: skip
    return tuple(sorted(lines, key=lambda line: (line.day or dt.date.min, line.kind)))


def liability_cap(
    invoices: Sequence[InvoiceOnRecord], event_day: dt.date, months: int = LIABILITY_CAP_MONTHS
) -> LiabilityCap:
    """The Provider's liability cap for a claim arising from an event on ``event_day``:
    the fees the Customer paid in the ``months`` before that day (MSA §9).

    "Preceding the event" counts the days before it, not the day itself.
    """
    counted_from = event_day - relativedelta(months=months)
    counted_to = event_day - dt.timedelta(days=1)
    paid = [
        MoneyLine(
            day, "payment", amount,
            f"{describe_day(day)}: {amount_text(amount)} paid against invoice {inv.reference}.",
            inv.case_id,
        )
        for inv in invoices
        for day, amount in inv.facts.payments
        if counted_from <= day <= counted_to
    ]  # fmt: skip
    paid.sort(key=lambda line: (line.day or dt.date.min, line.case_id or ""))
    amount = sum((line.amount for line in paid), NO_MONEY)
    explanation = (
        f"§{LIABILITY_SECTION}: the Provider's total liability is capped at the fees the "
        f"Customer paid in the {months} months before the event giving rise to the claim.",
        f"Event on {describe_day(event_day)}: payments received from {describe_day(counted_from)} "
        f"to {describe_day(counted_to)} count.",
        f"{len(paid)} payment{'s' if len(paid) != 1 else ''} recorded on the contract's invoice "
        f"cases in that period: cap {amount_text(amount)}.",
        "The cap does not apply to claims for gross negligence, wilful misconduct, "
        "infringement of intellectual property or breach of confidentiality.",
    )
    return LiabilityCap(event_day, counted_from, counted_to, amount, tuple(paid), explanation)


def _service_month(received_on: dt.date) -> dt.date:
    # Invoiced monthly for the Services rendered: the invoice bills the month before.
    return (received_on.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def _fees_not_invoiced(
    monthly_fee: Decimal,
    effective_date: dt.date,
    last_service_day: dt.date,
    invoices: Sequence[InvoiceOnRecord],
) -> list[MoneyLine]:
    billed = [_service_month(inv.received_on) for inv in invoices]
    month = max(billed) + relativedelta(months=1) if billed else effective_date.replace(day=1)
    lines = []
    while month <= last_service_day:
        month_end = month + relativedelta(months=1) - dt.timedelta(days=1)
        first, last = max(month, effective_date), min(month_end, last_service_day)
        if first <= last:
            days, in_month = (last - first).days + 1, month_end.day
            if days == in_month:
                amount = monthly_fee
                how = f"the whole month: the monthly fee of {amount_text(monthly_fee)}"
            else:
                amount = (monthly_fee * days / in_month).quantize(CENT, rounding=ROUND_HALF_UP)
                how = (
                    f"{days} of its {in_month} days, pro rata: {amount_text(monthly_fee)} × "
                    f"{days} ÷ {in_month} = {amount_text(amount)} (rounded half up to the cent)"
                )
            lines.append(
                MoneyLine(
                    last, "fees_not_invoiced", amount,
                    f"Services rendered {describe_day(first)} to {describe_day(last)}, not yet "
                    f"invoiced (Exhibit B.1), {how}.",
                )
            )  # fmt: skip
        month += relativedelta(months=1)
    return lines


def final_settlement(
    *,
    monthly_fee: Decimal,
    effective_date: dt.date,
    ends_on: dt.date,
    last_service_day: dt.date,
    invoices: Sequence[InvoiceOnRecord],
    credits: Sequence[CreditOnRecord],
    section: str,
    rates: Rates = Rates(),
) -> Settlement:
    """What the Customer owes when the agreement ends (MSA §10): the Services rendered up
    to the end, the invoices still unpaid with their late interest, less the service
    credits found due.

    Args:
        monthly_fee: Exhibit B.1.
        effective_date: When the agreement began (no fees before it).
        ends_on: The day the agreement ends; interest is counted to it.
        last_service_day: The last day the Services were rendered.
        invoices: The contract's invoices, with what was recorded on them.
        credits: Service credits the monthly reviews found due.
        section: The term sheet's section for termination (the reference MSA's §10).
        rates: The late-interest figures (§3).

    Returns:
        The statement; every line explains itself.
    """
    # The invoices for Services up to the end, the last month's even if it came after.
    billing = [i for i in invoices if _service_month(i.received_on) <= last_service_day]
    lines = _fees_not_invoiced(monthly_fee, effective_date, last_service_day, billing)
    for inv in sorted(billing, key=lambda i: (i.received_on, i.reference)):
        standing = standing_of(inv, ends_on, rates)
        due = f", due by the end of {describe_day(inv.due_day)}" if inv.due_day else ""
        if standing.outstanding > 0:
            lines.append(
                MoneyLine(
                    inv.received_on, "invoice_unpaid", standing.outstanding,
                    f"Invoice {inv.reference} received {describe_day(inv.received_on)}{due}: "
                    f"{amount_text(standing.outstanding)} of {amount_text(standing.due)} "
                    f"unpaid on {describe_day(ends_on)}.",
                    inv.case_id,
                )
            )  # fmt: skip
        if standing.interest_unpaid > 0:
            lines.append(
                MoneyLine(
                    ends_on, "interest", standing.interest_unpaid,
                    f"Late interest on invoice {inv.reference} charged to "
                    f"{describe_day(ends_on)} and unpaid (§3); it runs on until paid.",
                    inv.case_id,
                )
            )  # fmt: skip
        if standing.overpaid > 0:
            lines.append(
                MoneyLine(
                    inv.received_on, "overpayment", -standing.overpaid,
                    f"Invoice {inv.reference} was overpaid by {amount_text(standing.overpaid)}: "
                    "set off.",
                    inv.case_id,
                )
            )  # fmt: skip
        if standing.dispute_open:
            lines.append(
                MoneyLine(
                    inv.received_on, "dispute", NO_MONEY,
                    f"{amount_text(inv.facts.contested)} of invoice {inv.reference} is still "
                    "disputed: not included until the dispute is resolved.",
                    inv.case_id,
                )
            )  # fmt: skip
    for credit in sorted(credits, key=lambda c: c.month):
        if credit.month <= ends_on:
            lines.append(
                MoneyLine(
                    credit.month, "service_credit", -credit.amount,
                    f"Less the service credit for {_month_name(credit.month)} (Exhibit A.4), "
                    f"an offset under §{section}: {amount_text(credit.amount)}.",
                    credit.case_id,
                )
            )  # fmt: skip
    total = sum((line.amount for line in lines), NO_MONEY)
    if total >= 0:
        owed = f"The Customer owes the Provider {amount_text(total)}."
    else:
        owed = f"The Provider owes the Customer {amount_text(-total)}: the credits exceed it."
    explanation = (
        f"§{section}: on termination the Customer pays for the Services rendered up to the "
        f"end, less service credits and other offsets. The agreement ends on "
        f"{describe_day(ends_on)}; the last day of Services is {describe_day(last_service_day)}.",
        "An invoice is taken to bill the month before the one it was received in; months "
        "after the last one billed are counted at the monthly fee.",
        "Usage and additional-services fees (Exhibit B.2, B.3) are not recorded in "
        "Clauseflow: add them from the usage records.",
        owed,
    )
    return Settlement(ends_on, last_service_day, tuple(lines), total, explanation)
