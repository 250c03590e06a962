"""Disputed invoices (MSA §3, Exhibit B.4): what is payable while a dispute runs, and after.

"Customer shall pay any uncontested portions of the invoice while the dispute is being
resolved." ``invoice_position`` (rules/clauses/invoice_payment/calculators.py) takes the
uncontested portion and the amount due from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, localcontext

from contracts.money.common import (
    DECIMAL_CONTEXT,
    ROUNDING_NOTE,
    amount_text,
    as_money,
    to_cents,
)


def _part_of(value: object, field: str, whole: Decimal, whole_field: str) -> Decimal:
    # The contested part of an invoice, or the payable part of that: in cents, and no more
    # than the whole it is part of.
    part = as_money(value, field)
    if part > whole:
        raise ValueError(
            f"{field} ({amount_text(part)}) must not exceed {whole_field} ({amount_text(whole)})"
        )
    return part


def uncontested_amount(invoice_total: Decimal, contested: Decimal) -> Decimal:
    """The part of a disputed invoice that must be paid while the dispute runs (MSA §3).

    Args:
        invoice_total: The invoice total, in whole cents.
        contested: The amount the customer's dispute notice contests, in whole cents.

    Returns:
        ``invoice_total - contested``, in cents.

    Raises:
        TypeError: If either figure is a float.
        ValueError: If either figure is negative or has fractions of a cent, or
            ``contested`` is more than ``invoice_total``.
    """
    with localcontext(DECIMAL_CONTEXT):
        total = as_money(invoice_total, "invoice_total")
        disputed = _part_of(contested, "contested", total, "invoice_total")
        return to_cents(total - disputed)


@dataclass(frozen=True)
class DisputeOutcome:
    """What an invoice comes to once a dispute over part of it is resolved.

    Attributes:
        invoice_total: The invoice as issued.
        contested: The amount that was disputed.
        uncontested: The part that was payable while the dispute ran.
        contested_found_payable: The part of the contested amount resolved as payable.
        credited: The part of the contested amount that is not payable.
        amount_due: ``uncontested + contested_found_payable``.
        explanation: Plain-language lines.
    """

    invoice_total: Decimal
    contested: Decimal
    uncontested: Decimal
    contested_found_payable: Decimal
    credited: Decimal
    amount_due: Decimal
    explanation: tuple[str, ...]


def amount_due_after_dispute(
    invoice_total: Decimal, contested: Decimal, contested_found_payable: Decimal
) -> DisputeOutcome:
    """The amount due on an invoice once a dispute over part of it is resolved (MSA §3).

    Args:
        invoice_total: The invoice total, in whole cents.
        contested: The amount that was disputed, in whole cents.
        contested_found_payable: How much of the contested amount the resolution found
            payable, in whole cents (0 if the customer won outright).

    Returns:
        The amount due and the amount credited.

    Raises:
        TypeError: If a figure is a float.
        ValueError: If a figure is negative or has fractions of a cent, ``contested`` is
            more than ``invoice_total``, or ``contested_found_payable`` is more than
            ``contested``.
    """
    with localcontext(DECIMAL_CONTEXT):
        uncontested = uncontested_amount(invoice_total, contested)
        total = as_money(invoice_total, "invoice_total")
        disputed = as_money(contested, "contested")
        payable = _part_of(
            contested_found_payable, "contested_found_payable", disputed, "contested"
        )
        credited = disputed - payable
        amount_due = to_cents(uncontested + payable)
        lines = [
            f"Invoice {amount_text(total)}, of which {amount_text(disputed)} was contested "
            f"and {amount_text(uncontested)} was payable while the dispute ran.",
            f"Resolution: {amount_text(payable)} of the contested amount is payable and "
            f"{amount_text(credited)} is credited.",
            f"Amount due on the invoice: {amount_text(uncontested)} + {amount_text(payable)} "
            f"= {amount_text(amount_due)}. {ROUNDING_NOTE}",
        ]
        return DisputeOutcome(
            invoice_total=total,
            contested=disputed,
            uncontested=uncontested,
            contested_found_payable=payable,
            credited=credited,
            amount_due=amount_due,
            explanation=tuple(lines),
        )
