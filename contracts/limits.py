"""What Clauseflow accepts as a date and as an amount, wherever one comes in.

Contracts run for years, not centuries: a date outside these bounds is a typing slip
(0001-01-01, 9999-12-31) that would otherwise overflow the calendar's arithmetic or set
a deadline nobody will live to see. Amounts are in a currency's minor units (cents) and
bounded, so a slip such as "1e400" is refused rather than carried into interest sums.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

EARLIEST_DATE = dt.date(1970, 1, 1)
LATEST_DATE = dt.date(2200, 12, 31)

#: The largest amount accepted: just under a trillion in the contract's currency.
MAX_AMOUNT = Decimal("999999999999.99")
#: Amounts are in the currency's minor unit, cents for USD.
AMOUNT_PLACES = 2


def date_in_range(day: dt.date) -> bool:
    """Whether ``day`` lies within the dates Clauseflow accepts."""
    return EARLIEST_DATE <= day <= LATEST_DATE


def date_range_text() -> str:
    """The accepted range, for an error message."""
    return f"between {EARLIEST_DATE.isoformat()} and {LATEST_DATE.isoformat()}"
