"""How a contract not governed by New York law counts days, and how its explanations
say so.

A New York contract counts by NY GCL §§ 20, 24, 25 and its calendar carries no
convention: its explanations read as they always have. Any other contract counts as its
term sheet's ``day_count`` states: whether the event day is excluded, where a last day
that is not a business day goes, and (with ``business_hours.weekdays`` and
``holiday_calendar``) which days are business days. Every explanation of such a
contract opens with that convention and the source of its holidays.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal, get_args

from contracts.calendar.describing import _weekday_list, describe_day
from contracts.calendar.model import Roll

EventDay = Literal["excluded", "included"]

_ROLL_WORDS: dict[str, str] = {
    "forward": "a last day that is not a business day rolls forward to the next business day",
    "backward": "a last day that is not a business day rolls back to the previous business day",
    "none": "a last day that is not a business day stays where it falls",
}


@dataclass(frozen=True)
class CountingConvention:
    """The term sheet's day count under a governing law other than New York's.

    Attributes:
        governing_law: The law as Clauseflow knows it ("State of Delaware"), or as the
            term sheet names it when Clauseflow has no calendar of its own for it.
        known_law: Whether Clauseflow knows the law (and so its calendar).
        event_day: "excluded": day 1 is the day after the event; "included": the event
            day is day 1.
        roll: Where a last day that is not a business day goes, for every deadline whose
            clause leaves it to the law (a clause that makes time of the essence, or a
            reminder that must not be late, keeps its own rule).
        calendar_named: The term sheet names a holiday calendar other than its law's.
    """

    governing_law: str
    known_law: bool = True
    event_day: EventDay = "excluded"
    roll: Roll = "forward"
    calendar_named: bool = False

    def __post_init__(self) -> None:
        if self.event_day not in get_args(EventDay):
            raise ValueError(f"event_day must be 'excluded' or 'included', not {self.event_day!r}")
        if self.roll not in get_args(Roll):
            raise ValueError(f"roll must be 'forward', 'backward' or 'none', not {self.roll!r}")

    @property
    def law_in_words(self) -> str:
        """ "the law of the State of Delaware", or the term sheet's own words."""
        if not self.known_law:
            return f"the law the term sheet names, {self.governing_law}"
        the = "the " if self.governing_law.startswith("State of") else ""
        return f"the law of {the}{self.governing_law}"

    def summary(self, business_weekdays: tuple[int, ...], holidays: str, calendar_name: str) -> str:
        """The step every explanation of the contract carries, e.g. "Days are counted as
        the term sheet states for a contract governed by the law of the State of
        Delaware: the event day is excluded; ...".

        Args:
            business_weekdays: The contract's business weekdays, Monday = 0.
            holidays: Its public holidays in words, with their source.
            calendar_name: The holiday calendar's registry name, e.g. "US-DE".
        """
        event = (
            "the event day is excluded"
            if self.event_day == "excluded"
            else "the event day counts as day 1"
        )
        named = (
            f", the calendar the term sheet names (holiday_calendar {calendar_name})"
            if self.calendar_named
            else ""
        )
        return (
            f"Days are counted as the term sheet states for a contract governed by"
            f" {self.law_in_words}: {event}; {_ROLL_WORDS[self.roll]}; business days are"
            f" {_weekday_list(business_weekdays)} except {holidays}{named}."
        )

    def event_day_step(self, start: date, unit: str) -> str:
        """The first words of a count: whether the event day counts, as the term sheet
        states (NY GCL § 20 says it for a New York contract)."""
        day = describe_day(start)
        if self.event_day == "excluded":
            return f"As the term sheet states, the event day, {day}, is excluded from the count"
        if unit == "business_days":
            return f"As the term sheet states, the event day, {day}, counts if it is a business day"
        return f"As the term sheet states, the event day, {day}, counts as day 1"
