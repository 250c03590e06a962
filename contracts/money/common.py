"""What every money calculation shares: Decimal inputs, rounding and how figures are written.

Every amount is a ``decimal.Decimal`` in the contract currency; floats are refused because
they cannot hold cents exactly. Money is rounded half up to the cent (``ROUND_HALF_UP`` to
0.01), except a ceiling such as the lawful maximum on late interest (MSA §3), which is
rounded down to the cent so that rounding can never push a charge above it. The checks
name the offending argument, so an error says which figure to correct.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from decimal import ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_UP, Context, Decimal, localcontext
from typing import TypeVar

CENT = Decimal("0.01")

ZERO = Decimal(0)
NO_MONEY = Decimal("0.00")
HUNDRED = Decimal(100)
# Far more digits than any invoice needs, so only the explicit roundings change a figure.
DECIMAL_CONTEXT = Context(prec=50, rounding=ROUND_HALF_UP)

ROUNDING_NOTE = "Amounts are rounded half up to the cent."

_First = TypeVar("_First")
_Second = TypeVar("_Second")


def to_cents(amount: Decimal) -> Decimal:
    """Rounds an amount half up to the cent (``ROUND_HALF_UP`` to 0.01).

    Args:
        amount: A Decimal (an int is accepted, being exact).

    Returns:
        The amount with exactly two decimal places; 0.005 becomes 0.01, -0.005 becomes -0.01.

    Raises:
        TypeError: If ``amount`` is a float or any other non-Decimal type.
        ValueError: If ``amount`` is NaN or infinite.
    """
    value = as_decimal(amount, "amount")
    with localcontext(DECIMAL_CONTEXT):
        return value.quantize(CENT, rounding=ROUND_HALF_UP)


def cents_down(amount: Decimal) -> Decimal:
    # Only for ceilings: truncating keeps the rounded figure at or below the exact one.
    return amount.quantize(CENT, rounding=ROUND_FLOOR)


def as_decimal(value: object, field: str) -> Decimal:
    """``value`` as a finite Decimal; an int is exact, a float or a bool is refused."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        kind = type(value).__name__
        raise TypeError(f"{field} must be a Decimal, not {kind}; floats cannot hold cents exactly")
    number = Decimal(value)
    if not number.is_finite():
        raise ValueError(f"{field} must be a finite number, not {number}")
    return number


def as_money(value: object, field: str) -> Decimal:
    """``value`` as an amount in whole cents, not negative, written with two places."""
    amount = as_decimal(value, field)
    if amount < 0:
        raise ValueError(f"{field} must not be negative (got {amount})")
    if amount != amount.quantize(CENT, rounding=ROUND_DOWN):
        raise ValueError(f"{field} must be a whole number of cents (got {amount})")
    # Exact (whole cents were just checked); "100" becomes "100.00" in every output.
    return amount.quantize(CENT)


def as_percent(value: object, field: str) -> Decimal:
    """``value`` as a rate or percentage, not negative."""
    rate = as_decimal(value, field)
    if rate < 0:
        raise ValueError(f"{field} must not be negative (got {rate})")
    return rate


def as_date(value: object, field: str) -> dt.date:
    """``value`` as a ``datetime.date``; a datetime is refused."""
    # datetime is a subclass of date; mixing the two silently breaks day counts.
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise TypeError(f"{field} must be a datetime.date, not {type(value).__name__}")
    return value


def pairs(
    items: Iterable[tuple[_First, _Second]], field: str, shape: str
) -> Iterator[tuple[int, _First, _Second]]:
    """Each item with its index, unpacked as a pair; an item that is not one is refused.

    The TypeError names the item and the pair expected: "payments[2] must be a (date,
    Decimal) pair".
    """
    for index, item in enumerate(items):
        try:
            first, second = item
        except (TypeError, ValueError):
            raise TypeError(f"{field}[{index}] must be a {shape} pair") from None
        yield index, first, second


def amount_text(amount: Decimal) -> str:
    """An amount as an explanation writes it: 10,000.00."""
    return f"{amount:,.2f}"


def number_text(number: Decimal) -> str:
    # 16 rather than 16.00 or 1.6E+1; 0.05 rather than 0.0500.
    return format(number.normalize(), ",f")
