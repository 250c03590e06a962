"""What a clause says about time: a period, the rule that turns an event into a deadline,
the event (anchor) it is counted from, and the computed deadline with its explanation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Literal, get_args

from contracts.calendar.localtime import _require_aware

PeriodUnit = Literal["calendar_days", "business_days", "hours", "business_hours", "months"]
Direction = Literal["after", "before"]
Roll = Literal["forward", "backward", "none"]
DayEnd = Literal["end_of_day", "start_of_day"]

_UNIT_WORDS: dict[str, tuple[str, str]] = {
    "calendar_days": ("calendar day", "calendar days"),
    "business_days": ("business day", "business days"),
    "hours": ("hour", "hours"),
    "business_hours": ("business hour", "business hours"),
    "months": ("calendar month", "calendar months"),
}


@dataclass(frozen=True)
class Period:
    """A length of time named in a clause.

    Attributes:
        count: How many units. At least 1, except that 0 elapsed ``hours`` is allowed
            (an obligation due at the event itself).
        unit: One of :data:`PeriodUnit`.
    """

    count: int
    unit: PeriodUnit

    def __post_init__(self) -> None:
        if self.unit not in get_args(PeriodUnit):
            raise ValueError(
                f"unknown period unit {self.unit!r}; use one of {get_args(PeriodUnit)}"
            )
        if isinstance(self.count, bool) or not isinstance(self.count, int):
            raise ValueError(f"period count must be a whole number, not {self.count!r}")
        minimum = 0 if self.unit == "hours" else 1
        if self.count < minimum:
            raise ValueError(f"a period of {self.unit} needs a count of at least {minimum}")

    def describe(self) -> str:
        """Returns e.g. "90 calendar days"."""
        one, many = _UNIT_WORDS[self.unit]
        return f"{self.count} {one if self.count == 1 else many}"


@dataclass(frozen=True)
class DeadlineRule:
    """How a clause turns an event into a deadline.

    Attributes:
        period: The length of the period.
        direction: "after" the anchor, or "before" it (e.g. a reminder before a date).
        roll: What happens when a day or month period ends on a non-business day.
            "forward" is NY GCL § 25 (next business day); "none" means time is of the
            essence (no extension); "backward" moves to the business day before, for
            reminders that must not be late.
        ends: For day and month units, when on the last day the deadline falls: at the
            end of the day (midnight after it), at its start (00:00), or at a local wall
            time. Ignored for hour units.
        label: What happens at the deadline, e.g. "Termination takes effect".
        clause_ref: Where the rule comes from, e.g. "MSA §10".
        fixed_because: With roll "none", why the day does not move, in words that
            finish "..., but <fixed_because>, so ..."; by default, time of the essence.
    """

    period: Period
    direction: Direction = "after"
    roll: Roll = "forward"
    ends: DayEnd | time = "end_of_day"
    label: str = "deadline"
    clause_ref: str = ""
    fixed_because: str = "the clause makes time of the essence"

    def __post_init__(self) -> None:
        if self.direction not in get_args(Direction):
            raise ValueError(f"direction must be 'after' or 'before', not {self.direction!r}")
        if self.roll not in get_args(Roll):
            raise ValueError(f"roll must be 'forward', 'backward' or 'none', not {self.roll!r}")
        if isinstance(self.ends, time):
            if self.ends.tzinfo is not None:
                raise ValueError("ends must be a local wall time without a time zone")
        elif self.ends not in get_args(DayEnd):
            raise ValueError(
                f"ends must be 'end_of_day', 'start_of_day' or a time, not {self.ends!r}"
            )


@dataclass(frozen=True)
class Anchor:
    """The event a period is counted from.

    Attributes:
        instant: When the event happened; must be timezone-aware.
        label: The event in words, e.g. "the termination notice was received".
        day: Count from this local date instead of the instant's local date. Use it
            when the anchor is an earlier deadline's last day, whose instant (the
            midnight ending that day) belongs to the next date.
    """

    instant: datetime
    label: str
    day: date | None = None

    def __post_init__(self) -> None:
        _require_aware(self.instant, "anchor instant")
        if isinstance(self.day, datetime):
            raise ValueError("anchor day must be a date, not a datetime")


@dataclass(frozen=True)
class ComputedDeadline:
    """A deadline and how it was reached.

    Attributes:
        due_at: The instant the timer should fire, in UTC.
        local_due: The same instant in the contract's time zone.
        last_day: For day and month units, the last day of the period after any roll;
            None for hour units.
        explanation: Plain-language steps, one per line.
    """

    due_at: datetime
    local_due: datetime
    last_day: date | None
    explanation: tuple[str, ...]

    @property
    def explanation_text(self) -> str:
        """The explanation steps joined with newlines."""
        return "\n".join(self.explanation)
