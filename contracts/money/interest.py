"""Late-payment interest (MSA §3): interest months, the two limbs and how they are explained.

"Late payments shall incur interest at a rate of one percent (1%) per month or the maximum
rate permitted by applicable law, whichever is lower, compounded monthly until payment is
received." The term sheet sets both figures (``PaymentTerms.late_interest_percent_per_month``
and ``PaymentTerms.maximum_lawful_annual_rate_percent``). Limb (a) compounds the contract
rate by interest month, each month rounded half up to the cent; limb (b) is simple
interest at the lawful maximum, actual/365, rounded down to the cent.
``contracts.money.ledger`` runs both over a history of payments.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum

from dateutil.relativedelta import relativedelta

from contracts.money.common import HUNDRED, cents_down, number_text, to_cents

DAYS_IN_YEAR = 365

DEFAULT_MONTHLY_RATE_PERCENT = Decimal("1")
DEFAULT_MAX_ANNUAL_RATE_PERCENT = Decimal("16")


class InterestLimb(StrEnum):
    """Which of the two §3 limits set the late interest: the lower one always applies."""

    CONTRACT_RATE = "contract rate"
    LAWFUL_MAXIMUM = "lawful maximum"


def anniversary(due_date: dt.date, months: int) -> dt.date:
    """Where interest month ``months`` ends: that many months after the due date.

    Counted from the due date itself, so a due date of 31 January gives 28 (or 29)
    February, then 31 March: relativedelta takes a shorter month's last day, and the short
    month does not shift later ones.
    """
    return due_date + relativedelta(months=months)


def contract_rate_interest(balance_days: Decimal, rate: Decimal, days_in_month: int) -> Decimal:
    """Limb (a) for an interest month, or the part of it so far, rounded half up to the cent.

    ``balance_days`` is balance x days charged, so a whole month is exactly balance x rate.
    """
    return to_cents(balance_days * rate / (HUNDRED * days_in_month))


def lawful_maximum_interest(principal_days: Decimal, annual_rate: Decimal) -> Decimal:
    """Limb (b) on principal x days outstanding: actual/365, rounded down to the cent."""
    return cents_down(principal_days * annual_rate / (HUNDRED * DAYS_IN_YEAR))


def method_lines(rate: Decimal, cap: Decimal) -> list[str]:
    """How both limbs are worked out and rounded, in plain language, for an explanation."""
    return [
        f"Limb (a), the contract rate: {number_text(rate)}% a month, compounded monthly. "
        "Interest months run from the due date to the same day of each following month "
        "(the last day of a shorter month). Each month's interest is rounded half up to "
        "the cent and added to the balance before the next month. A final part month is "
        "charged pro rata: days elapsed divided by the actual days in that interest month.",
        f"Limb (b), the lawful maximum: simple interest at {number_text(cap)}% a year on the "
        f"principal for the actual days elapsed, over a {DAYS_IN_YEAR}-day year (actual/365), "
        "rounded down to the cent so rounding can never take the charge above the maximum.",
        "The lower of the two limbs is charged, so interest never exceeds the lawful maximum.",
    ]
