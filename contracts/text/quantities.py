"""Periods and percentages as agreements write them: "ninety (90) days", "seventy-two
hours", "one percent (1%) per month", "ninety-nine point nine percent (99.9%)", "12
months". Pure and deterministic: the first step of proposing a term sheet from an
agreement's own text (issue 16), each quantity with where it stands in the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19,
}  # fmt: skip
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}  # fmt: skip
_SCALES = {"hundred": 100, "thousand": 1000}
_WORD = "|".join(sorted([*_UNITS, *_TENS, *_SCALES, "point", "and"], key=len, reverse=True))

#: The units a clause's figures are counted in, singular, as the text may write them.
UNITS = ("business day", "calendar day", "day", "hour", "week", "month", "year", "percent")

_UNIT = (
    r"(?P<unit>business\s+days?|calendar\s+days?|days?|hours?|weeks?|months?|years?"
    r"|percent|per\s*cent)"
)
_NUMERAL = r"(?P<digits>\d+(?:\.\d+)?)"
_PATTERN = re.compile(
    # Words, the numeral in brackets before or after the unit: "ninety (90) days",
    # "one percent (1%)", "seventy-two hours".
    rf"\b(?P<words>(?:{_WORD})(?:[\s-]+(?:{_WORD}))*)\b"
    rf"(?:\s*\(\s*{_NUMERAL}\s*(?P<sign>%)?\s*\))?"
    rf"(?:\s*{_UNIT}\b['’]?)?"
    rf"(?:\s*\(\s*(?P<after>\d+(?:\.\d+)?)\s*(?P<aftersign>%)?\s*\))?"
    # Or a numeral on its own with its unit: "30 days", "99.9%".
    rf"|\b(?P<bare>\d+(?:\.\d+)?)\s*(?:(?P<baresign>%)|{_UNIT.replace('unit', 'bareunit')}\b['’]?)",
    re.IGNORECASE,
)
_LEADING_AND = re.compile(r"^(?:and[\s-]+)+", re.IGNORECASE)


@dataclass(frozen=True)
class Quantity:
    """A period or percentage found in a text.

    Attributes:
        value: The number.
        unit: One of :data:`UNITS`.
        start: Where it starts in the text (a character offset).
        end: Where it ends.
        text: The words as written.
        unsure: Why the reading may be wrong (the words and the numeral disagree), or None.
    """

    value: Decimal
    unit: str
    start: int
    end: int
    text: str
    unsure: str | None = None


class NotANumber(ValueError):
    """Words that do not make a number ("and", "point" alone)."""


def words_to_number(words: str) -> Decimal:
    """ "seventy-two" -> 72, "ninety-nine point nine" -> 99.9, "one hundred and twenty"
    -> 120.

    Raises:
        NotANumber: The words are not a number.
    """
    parts = [w for w in re.split(r"[\s-]+", words.lower().strip()) if w and w != "and"]
    if not parts or parts[0] == "point":
        raise NotANumber(words)
    whole, fraction, total, current, seen_point = [], [], 0, 0, False
    for w in parts:
        if w == "point":
            if seen_point:
                raise NotANumber(words)
            seen_point = True
        elif seen_point:
            if w not in _UNITS or _UNITS[w] > 9:
                raise NotANumber(words)
            fraction.append(str(_UNITS[w]))
        elif w in _UNITS:
            current += _UNITS[w]
            whole.append(w)
        elif w in _TENS:
            current += _TENS[w]
            whole.append(w)
        elif w in _SCALES:
            current = max(current, 1) * _SCALES[w]
            if _SCALES[w] >= 1000:
                total, current = total + current, 0
            whole.append(w)
        else:
            raise NotANumber(words)
    if not whole:
        raise NotANumber(words)
    number = str(total + current) + ("." + "".join(fraction) if fraction else "")
    return Decimal(number)


def _unit(raw: str | None, sign: str | None) -> str | None:
    if sign:
        return "percent"
    if raw is None:
        return None
    text = re.sub(r"\s+", " ", raw.lower())
    if text in ("percent", "per cent"):
        return "percent"
    return text.removesuffix("s") if text.endswith("s") else text


def find_quantities(text: str) -> list[Quantity]:
    """Every period and percentage in ``text``, in order. Words without a unit or a
    numeral beside them ("any one party") are not quantities and are left out."""
    found = []
    for m in _PATTERN.finditer(text):
        if m.group("bare") is not None:
            unit = _unit(m.group("bareunit"), m.group("baresign"))
            if unit is None:
                continue
            found.append(Quantity(Decimal(m.group("bare")), unit, m.start(), m.end(), m.group(0)))
            continue
        digits = m.group("digits") or m.group("after")
        unit = _unit(m.group("unit"), m.group("sign") or m.group("aftersign"))
        if unit is None and digits is None:
            continue
        try:
            value = words_to_number(m.group("words"))
        except NotANumber:
            continue
        unsure = None
        if digits is not None and Decimal(digits) != value:
            unsure = f"the words say {value} and the numeral says {digits}"
        # "two (2) hours ... and four (4) hours": the "and" is not part of the figure.
        leading = _LEADING_AND.match(m.group(0))
        start = m.start() + (len(leading.group(0)) if leading else 0)
        written = text[start : m.end()].rstrip("'’")
        found.append(
            Quantity(value, unit or "number", start, start + len(written), written, unsure)
        )
    return found
