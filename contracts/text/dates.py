"""Dates as agreements write them: "January 1, 2027", "1 January 2027", "2027-01-01",
"the 1st day of January, 2027", "this first day of January 2027". Each with where it
stands in the text. Numeric dates such as "01/02/2027" are found apart
(:func:`find_numeric_dates`), with both readings: which one the text means depends on
where it was written, which this module cannot know.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from contracts.text.quantities import NotANumber, words_to_number

_MONTHS = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
}  # fmt: skip
_MONTH = (
    r"(?P<{name}>January|February|March|April|May|June|July|August|September|October"
    r"|November|December|Jan\.?|Feb\.?|Mar\.?|Apr\.?|Jun\.?|Jul\.?|Aug\.?|Sept?\.?|Oct\.?"
    r"|Nov\.?|Dec\.?)"
)
_ORDINAL_WORDS = {
    "first": "one", "second": "two", "third": "three", "fifth": "five", "eighth": "eight",
    "ninth": "nine", "twelfth": "twelve", "twentieth": "twenty", "thirtieth": "thirty",
}  # fmt: skip
_ORDINAL = (
    r"(?:(?:twenty|thirty)[\s-]+)?(?:first|second|third|fourth|fifth|sixth|seventh|eighth"
    r"|ninth|tenth|eleventh|twelfth|thirteenth|fourteenth|fifteenth|sixteenth|seventeenth"
    r"|eighteenth|nineteenth|twentieth|thirtieth)"
)
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_YEAR = r"(?P<{name}>\d{{4}})"
_PATTERN = re.compile(
    # "the 1st day of January, 2027", "this first day of January 2027"
    rf"\b(?:the|this)\s+(?P<dayof>{_DAY}|{_ORDINAL})\s+day\s+of\s+{_MONTH.format(name='m1')}"
    rf",?\s+(?:in\s+the\s+year\s+)?{_YEAR.format(name='y1')}\b"
    # "January 1, 2027", "Jan. 1st 2027"
    rf"|\b{_MONTH.format(name='m2')}\s+(?P<d2>{_DAY}),?\s+{_YEAR.format(name='y2')}\b"
    # "1 January 2027", "1st of January, 2027"
    rf"|\b(?P<d3>{_DAY})\s+(?:of\s+)?{_MONTH.format(name='m3')},?\s+{_YEAR.format(name='y3')}\b"
    # "2027-01-01"
    r"|\b(?P<y4>\d{4})-(?P<m4>\d{2})-(?P<d4>\d{2})\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class DateMention:
    """A date found in a text: its value, where it stands, and the words as written."""

    value: dt.date
    start: int
    end: int
    text: str


def _day(written: str) -> int:
    written = written.lower()
    if written[0].isdigit():
        return int(re.sub(r"\D", "", written))
    words = re.split(r"[\s-]+", written)
    last = words[-1]
    last = _ORDINAL_WORDS.get(last, last.removesuffix("th"))
    return int(words_to_number(" ".join([*words[:-1], last])))


def _month(written: str) -> int:
    key = written.lower().rstrip(".")
    return next(n for name, n in _MONTHS.items() if name.startswith(key[:3]))


def find_dates(text: str, start: int = 0, end: int | None = None) -> list[DateMention]:
    """Every date in ``text[start:end]`` that is a real day, in order ("February 30,
    2027" is not one and is left out)."""
    found = []
    for m in _PATTERN.finditer(text, start, len(text) if end is None else end):
        try:
            if m.group("y4"):
                day = dt.date(int(m.group("y4")), int(m.group("m4")), int(m.group("d4")))
            else:
                which = next(i for i in "123" if m.group(f"y{i}"))
                written_day = m.group("dayof") if which == "1" else m.group(f"d{which}")
                day = dt.date(
                    int(m.group(f"y{which}")), _month(m.group(f"m{which}")), _day(written_day)
                )
        except (ValueError, NotANumber):
            continue
        found.append(DateMention(day, m.start(), m.end(), m.group(0)))
    return found


_NUMERIC = re.compile(r"\b(?P<a>\d{1,2})[/.](?P<b>\d{1,2})[/.](?P<y>\d{4})\b")


@dataclass(frozen=True)
class NumericDate:
    """A date written in numbers ("01/02/2027"), read both ways.

    Attributes:
        month_first: The day it names read month first (2 January 2027), if a real day.
        day_first: The day it names read day first (1 February 2027), if a real day.
    """

    month_first: dt.date | None
    day_first: dt.date | None
    start: int
    end: int
    text: str


def _real(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def find_numeric_dates(text: str, start: int = 0, end: int | None = None) -> list[NumericDate]:
    """Every date written in numbers in ``text[start:end]`` that is a real day read one
    way or the other, in order."""
    found = []
    for m in _NUMERIC.finditer(text, start, len(text) if end is None else end):
        a, b, year = int(m.group("a")), int(m.group("b")), int(m.group("y"))
        month_first, day_first = _real(year, a, b), _real(year, b, a)
        if month_first or day_first:
            found.append(NumericDate(month_first, day_first, m.start(), m.end(), m.group(0)))
    return found
