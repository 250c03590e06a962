"""The agreement's own terms besides the clauses', read from its text: its effective
date, its fees (Exhibit B) and their currency, the law that governs it and the time zone
it keeps. Each where the text states it; a blank the form leaves, or a term the text
does not state, is missing, never defaulted (no silent New York time).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

from contracts.calendar.conventions import CountingConvention
from contracts.calendar.jurisdictions import jurisdiction_of
from contracts.limits import date_in_range, date_range_text
from contracts.text.amounts import Amount, find_amounts
from contracts.text.blanks import BLANK, is_blank
from contracts.text.dates import NumericDate, find_dates, find_numeric_dates
from contracts.text.outline import line_at, outline
from rules.proposal.found import Found, Missing, Place, Proposal

LAW_LABEL = "The law that governs the agreement"
_LAW = re.compile(
    r"governed by[^.]{0,200}?laws? of (?P<law>(?:the )?(?:State|Commonwealth) of [A-Z][A-Za-z ]+?"
    r"|England and Wales|[A-Z][A-Za-z]+)(?=[,.;]| without| and\b)"
)

_EFFECTIVE = "effective_date"
_EFFECTIVE_LABEL = "The date the agreement takes effect"
#: "Effective Date: January 1, 2027" on a line of its own.
_EFFECTIVE_LINE = re.compile(r"^[ \t*]*Effective Date[ \t*]*:[ \t*]*(?P<rest>[^\n]*)$", re.M)
#: Words that make a sentence's date the effective date.
_EFFECTIVE_WORDS = re.compile(
    r"Effective Date|(?:effective|entered\s+into|made|dated)\s+as\s+of"
    r"|(?:effective|entered\s+into)\s+on",  # not "a payment made on"
    re.IGNORECASE,
)


@dataclass(frozen=True)
class _Fee:
    """A fee of Exhibit B: what stands next to its amount ("per gigabyte" after it,
    "monthly fee" before it), and the decimal places the term sheet keeps."""

    path: str
    label: str
    places: int
    per: str
    after: str
    #: Words before the amount that name the fee: "monthly fee" (of $25,000.00).
    named: str | None = None

    @property
    def before(self) -> str | None:
        if self.named is None:
            return None
        return r"\b" + r"\s+".join(self.named.split()) + r"s?\b"


_FEES = (
    _Fee("fees.monthly_fee", "The monthly fee", 2, "per month",
         r"\s*(?:per|a|each)\s+month\b|\s*monthly\b", "monthly fee"),
    _Fee("fees.usage_fee_per_gb", "The usage fee per gigabyte of data", 4, "per gigabyte",
         r"\s*(?:per|a|each|/)\s*(?:gigabyte|GB)\b"),
    _Fee("fees.additional_services_hourly", "The hourly rate for additional services", 2,
         "per hour", r"\s*(?:per|an|each|/)\s*hour\b|\s*hourly\b"),
)  # fmt: skip
#: How far (characters) before an amount the words that name its fee may stand.
_BEFORE = 60
_SIGN = re.compile(r"US\$|\$|£|€|USD|GBP|EUR")

#: Time zones as agreements name them, and their IANA names.
_US_TIME = r" (?:Standard |Daylight |Prevailing )?Time"
_ZONES = (
    (rf"New York(?: City)? time|Eastern{_US_TIME}", "America/New_York"),
    (rf"Central{_US_TIME}|Chicago time", "America/Chicago"),
    (rf"Mountain{_US_TIME}|Denver time", "America/Denver"),
    (rf"Pacific{_US_TIME}|Los Angeles time", "America/Los_Angeles"),
    (r"London time|UK time|United Kingdom time", "Europe/London"),
)
_ZONE = re.compile("|".join(f"(?P<z{i}>{p})" for i, (p, _) in enumerate(_ZONES)), re.IGNORECASE)


def governing_law(text: str, place: Place | None = None) -> Found | None:
    """The law the agreement is governed by, with its sentence; None when it says none."""
    place = place or Place(text, outline(text))
    m = _LAW.search(text)
    if m is None:
        return None
    law = m.group("law").removeprefix("the ")
    return place.found("governing_law", LAW_LABEL, law, m.start("law"), m.end("law"))


def law(place: Place) -> Found | Missing:
    found = governing_law(place.text, place)
    if found is None:
        return Missing("governing_law", LAW_LABEL, 'no sentence says "governed by the laws of"')
    return found


def _said(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def _numeric(place: Place, n: NumericDate) -> tuple[dt.date | None, str | None]:
    """The day a date in numbers names, and why the reading is unsure; or None, and why
    it cannot be read. Read by the order its governing law writes dates in: month first
    in the United States, day first elsewhere."""
    if n.month_first is None or n.day_first is None or n.month_first == n.day_first:
        return n.month_first or n.day_first, None  # only one reading is a real day
    law = governing_law(place.text, place)
    where = jurisdiction_of(str(law.value)) if law is not None else None
    if law is None or where is None:
        return None, (
            f'"{n.text}" may be {_said(n.month_first)} (month first) or'
            f" {_said(n.day_first)} (day first), and no governing law Clauseflow knows"
            " tells which"
        )
    month_first = where.calendar.startswith("US-")
    read, other = (n.month_first, n.day_first) if month_first else (n.day_first, n.month_first)
    order = "month" if month_first else "day"
    under = CountingConvention(where.law).law_in_words
    return read, (
        f'"{n.text}" is read {order} first, as dates are written under {under}; read the'
        f" other way it would be {_said(other)}"
    )


def _effective_in(place: Place, start: int, end: int, near: int, line: bool) -> Found | str | None:
    """The effective date in ``text[start:end]`` (the one nearest ``near``); why a date
    in numbers there cannot be read; or None."""
    text = place.text
    sentence = line_at(text, start) if line else None
    dates = find_dates(text, start, end)
    if dates:
        d = min(dates, key=lambda d: abs(d.start - near))
        return place.found(
            _EFFECTIVE, _EFFECTIVE_LABEL, d.value.isoformat(), d.start, d.end,
            sentence=sentence, unsure=_out_of_range(d.value),
        )  # fmt: skip
    numeric = find_numeric_dates(text, start, end)
    if not numeric:
        return None
    n = min(numeric, key=lambda n: abs(n.start - near))
    day, why = _numeric(place, n)
    if day is None:
        return why
    return place.found(
        _EFFECTIVE, _EFFECTIVE_LABEL, day.isoformat(), n.start, n.end,
        sentence=sentence, unsure=_out_of_range(day) or why,
    )  # fmt: skip


def effective_date(place: Place) -> Found | Missing:
    text = place.text
    blank = None
    cannot: str | None = None  # why a date in numbers could not be read
    for m in _EFFECTIVE_LINE.finditer(text):
        rest, at = m.group("rest"), m.start("rest")
        got = _effective_in(place, at, m.end("rest"), at, line=True)
        if isinstance(got, Found):
            return got
        cannot = cannot or got
        if blank is None and is_blank(rest.strip(" \t*")):
            blank = f'"Effective Date: {rest.strip(" *")}" ({place.where(at)})'
    read: set[int] = set()
    for cue in _EFFECTIVE_WORDS.finditer(text):
        sentence = place.sentence_at(cue.start())
        if sentence is None or sentence.start in read:
            continue
        read.add(sentence.start)
        got = _effective_in(place, sentence.start, sentence.end, cue.start(), line=False)
        if isinstance(got, Found):
            return got
        cannot = cannot or got
        left = BLANK.search(text, sentence.start, sentence.end)
        if blank is None and left is not None:
            blank = f'"{left.group(0)}" ({place.where(left.start())})'
    if cannot is not None:
        return Missing(_EFFECTIVE, _EFFECTIVE_LABEL, cannot)
    if blank is not None:
        return Missing(_EFFECTIVE, _EFFECTIVE_LABEL, f"left blank in the text: {blank}")
    return Missing(
        _EFFECTIVE, _EFFECTIVE_LABEL,
        'no date on an "Effective Date:" line nor in a sentence that says when the'
        " agreement takes effect",
    )  # fmt: skip


def _out_of_range(day: dt.date) -> str | None:
    if date_in_range(day):
        return None
    return f"a term sheet's effective date must be {date_range_text()}"


def fees(place: Place, result: Proposal) -> None:
    """Exhibit B's fees and their currency, into ``result``."""
    text = place.text
    amounts = find_amounts(text)
    stated: list[Amount] = []
    for fee in _FEES:
        amount, also = _amount_of(text, amounts, fee)
        if amount is None:
            why = f'no amount of money "{fee.per}"' + (
                f' nor after "{fee.named}"' if fee.named else ""
            )
            result.add(Missing(fee.path, fee.label, why))
            continue
        stated.append(amount)
        if amount.value is None:
            why = f'left blank in the text: "{amount.text}" ({place.where(amount.start)})'
            result.add(Missing(fee.path, fee.label, why))
            continue
        value = amount.value.quantize(Decimal(1).scaleb(-fee.places))
        unsure = also
        if value != amount.value:
            # Never rounded silently: the person reviewing it decides.
            unsure = f"the term sheet keeps {fee.places} decimal places of it"
            value = amount.value
        result.add(
            place.found(fee.path, fee.label, str(value), amount.start, amount.end, unsure=unsure)
        )
    result.add(_currency(place, stated))


def _amount_of(text: str, amounts: list[Amount], fee: _Fee) -> tuple[Amount | None, str | None]:
    """The fee's amount, and why it is unsure: the text states another where it could be."""

    def followed_by(a: Amount, f: _Fee) -> bool:
        return re.match(f.after, text[a.end : a.end + 30], re.IGNORECASE) is not None

    def named(a: Amount) -> bool:
        # "a monthly fee of $25,000.00 and $0.05 per gigabyte": the second is not monthly.
        window = text[max(0, a.start - _BEFORE) : a.start]
        return bool(fee.before and re.search(fee.before, window, re.IGNORECASE)) and not any(
            followed_by(a, f) for f in _FEES
        )

    found = [a for a in amounts if followed_by(a, fee)] or [a for a in amounts if named(a)]
    if not found:
        return None, None
    others = sorted({a.text for a in found[1:] if a.value != found[0].value})
    return found[0], (f"the text also states {', '.join(others)}" if others else None)


#: Words that say the dollars are US dollars.
_US_DOLLARS = re.compile(r"\bUSD\b|\bUS\$|\bU\.?S\.? dollars?\b|\bUnited States dollars?\b", re.I)


def _dollar_unsure(place: Place, first: Amount) -> str | None:
    """Why a bare "$" may not be US dollars: the text names no currency, and its law is
    not a US state's (Canadian, Australian and other dollars are written "$" too)."""
    if first.currency != "USD" or not first.text.startswith("$"):
        return None
    if _US_DOLLARS.search(place.text):
        return None
    law = governing_law(place.text, place)
    where = jurisdiction_of(str(law.value)) if law is not None else None
    if where is not None and where.calendar.startswith("US-"):
        return None
    under = f"is governed by the law of {law.value}" if law else "names no governing law"
    return (
        f'"$" is read as US dollars, but the text names no currency and {under}: other'
        ' dollars are written "$" too'
    )


def _currency(place: Place, fees: list[Amount]) -> Found | Missing:
    label = "The currency of the fees"
    if not fees:
        return Missing("currency", label, "no fee states an amount or a currency")
    first = fees[0]
    others = sorted({a.currency for a in fees} - {first.currency})
    unsure = f"other fees are in {', '.join(others)}" if others else _dollar_unsure(place, first)
    sign = _SIGN.search(first.text)
    start, end = (first.start + sign.start(), first.start + sign.end()) if sign else (0, 0)
    return place.found("currency", label, first.currency, start, end, unsure=unsure)


def time_zone(place: Place) -> Found | Missing:
    label = "The time zone the agreement's times are in"
    found = list(_ZONE.finditer(place.text))
    if not found:
        return Missing(
            "time_zone", label,
            'no sentence names a time zone ("New York time", "Eastern Time", "London time",'
            ' "Pacific Time", ...)',
        )  # fmt: skip
    first = found[0]
    zone = _zone_of(first)
    others = sorted({_zone_of(m) for m in found} - {zone})
    unsure = f"the text also names {', '.join(others)}" if others else None
    return place.found("time_zone", label, zone, first.start(), first.end(), unsure=unsure)


def _zone_of(m: re.Match[str]) -> str:
    index = next(int(k[1:]) for k, v in m.groupdict().items() if v is not None)
    return _ZONES[index][1]
