"""Which calendar a contract counts its days on: the one its governing law chooses.

Every deadline asks :func:`calendar_for`. New York law counts by NY GCL §§ 20, 24, 25,
exactly as before. Delaware, California and England and Wales take their public holidays
from the ``holidays`` package and count as the term sheet's ``day_count`` states. A
term sheet may name another holiday calendar (``holiday_calendar``); a law Clauseflow
has no calendar for must name one, and is refused at registration otherwise
(:func:`law_without_calendar`), never counted as New York's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from contracts.calendar.business import ContractCalendar
from contracts.calendar.conventions import CountingConvention
from contracts.holidays import available_holiday_calendars


@dataclass(frozen=True)
class Jurisdiction:
    """A governing law Clauseflow has a calendar for.

    Attributes:
        law: Its name as term sheets write it, e.g. "State of Delaware".
        calendar: Its holiday calendar's registry name (contracts/holidays.py).
        words: What a term sheet's ``governing_law`` must mention to name it.
    """

    law: str
    calendar: str
    words: tuple[str, ...]


NEW_YORK = Jurisdiction("State of New York", "US-NY", ("new york",))
JURISDICTIONS: tuple[Jurisdiction, ...] = (
    NEW_YORK,
    Jurisdiction("State of Delaware", "US-DE", ("delaware",)),
    Jurisdiction("State of California", "US-CA", ("california",)),
    Jurisdiction("England and Wales", "GB-ENG", ("england", "english law")),
)


def jurisdiction_of(governing_law: str) -> Jurisdiction | None:
    """The jurisdiction a term sheet's ``governing_law`` names, or None.

    Read loosely ("State of Delaware", "Delaware law", "the laws of England and
    Wales"), but a text that names two, or none, is no jurisdiction.
    """
    text = re.sub(r"\s+", " ", governing_law.lower().replace("&", "and")).strip()
    found = [j for j in JURISDICTIONS if any(w in text for w in j.words)]
    return found[0] if len(found) == 1 else None


def counts_by_new_york(governing_law: str) -> bool:
    """Whether the law is New York's, which counts by NY GCL §§ 20, 24, 25."""
    return jurisdiction_of(governing_law) is NEW_YORK


def law_without_calendar(governing_law: str) -> str:
    """Why a term sheet under ``governing_law`` that names no calendar is refused, and
    how to choose one."""
    laws = "; ".join(j.law for j in JURISDICTIONS)
    calendars = ", ".join(available_holiday_calendars())
    return (
        f"Clauseflow has no calendar for the governing law {governing_law!r}, and the term"
        f" sheet names none, so it cannot count the contract's days. Write a governing law"
        f" it knows ({laws}), or state the calendar: holiday_calendar (one of {calendars})"
        " and day_count (event_day: excluded or included; roll: forward, backward or none)."
    )


def calendar_for(terms: Any, extra_holidays: Iterable[date] = ()) -> ContractCalendar:
    """The calendar a contract's days are counted on, as its governing law chooses.

    Args:
        terms: A :class:`contracts.terms.TermSheet`, or anything with ``time_zone``,
            ``holiday_calendar`` and ``business_hours.start/.end/.weekdays``; its
            ``governing_law`` is New York's, and its ``day_count`` the default one, when
            it has none.
        extra_holidays: Appointed days to add to the term sheet's calendar.

    Returns:
        For New York law, the NY GCL calendar of old (no convention); for any other, the
        calendar with the term sheet's counting convention.

    Raises:
        ValueError: If the law has no calendar and the term sheet names none.
    """
    law = getattr(terms, "governing_law", None) or NEW_YORK.law
    jurisdiction = jurisdiction_of(law)
    holidays = getattr(terms, "holiday_calendar", None) or (
        jurisdiction.calendar if jurisdiction is not None else None
    )
    if holidays is None:
        raise ValueError(law_without_calendar(law))
    convention = None
    if jurisdiction is not NEW_YORK:
        day_count = getattr(terms, "day_count", None)
        convention = CountingConvention(
            governing_law=law if jurisdiction is None else jurisdiction.law,
            known_law=jurisdiction is not None,
            event_day=getattr(day_count, "event_day", "excluded"),
            roll=getattr(day_count, "roll", "forward"),
            calendar_named=jurisdiction is None or holidays != jurisdiction.calendar,
        )
    hours = terms.business_hours
    return ContractCalendar(
        time_zone=terms.time_zone,
        holidays=holidays,
        business_start=hours.start,
        business_end=hours.end,
        business_weekdays=tuple(hours.weekdays),
        extra_holidays=tuple(extra_holidays),
        convention=convention,
    )
