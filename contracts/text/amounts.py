"""Amounts of money as agreements write them: "$25,000.00", "US$ 180", "£0.05",
"25,000 USD", and the blanks a form leaves for them ("$__________"). Each with where it
stands in the text; values are Decimal, never float.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from contracts.text.blanks import BLANK

#: The currencies a sign or a code says, as ISO 4217 codes.
CURRENCIES = {"$": "USD", "US$": "USD", "USD": "USD", "£": "GBP", "GBP": "GBP"}
CURRENCIES |= {"€": "EUR", "EUR": "EUR"}

_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_PATTERN = re.compile(
    # A sign or code before: "$25,000.00", "USD 25,000", "$__________", "$[amount]".
    rf"(?P<sign>US\$|\$|£|€|\b(?:USD|GBP|EUR)\b)\s?(?P<before>{_NUMBER}|{BLANK.pattern})"
    # A code after: "25,000.00 USD".
    rf"|\b(?P<after>{_NUMBER})\s?(?P<code>USD|GBP|EUR)\b"
)


@dataclass(frozen=True)
class Amount:
    """An amount of money found in a text.

    Attributes:
        value: The amount, or None where the text leaves a blank for it.
        currency: "USD", "GBP" or "EUR".
        start: Where it starts in the text; ``end`` where it ends.
        text: The words as written ("$25,000.00").
    """

    value: Decimal | None
    currency: str
    start: int
    end: int
    text: str


def find_amounts(text: str, start: int = 0, end: int | None = None) -> list[Amount]:
    """Every amount of money in ``text[start:end]``, blanks included, in order."""
    found = []
    for m in _PATTERN.finditer(text, start, len(text) if end is None else end):
        number = m.group("before") if m.group("sign") else m.group("after")
        currency = CURRENCIES[m.group("sign") or m.group("code")]
        value = None if BLANK.fullmatch(number) else Decimal(number.replace(",", ""))
        found.append(Amount(value, currency, m.start(), m.end(), m.group(0)))
    return found
