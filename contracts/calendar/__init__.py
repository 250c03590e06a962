"""The deadline calendar: counts contractual periods the way New York law does.

Rules applied (NY General Construction Law):

* § 20: a period of N days from an event excludes the event's day; day 1 is the next
  calendar day. The day is the local date in the contract's time zone. In a period of
  exactly two days, a Saturday, Sunday or public holiday between the event day and the
  last day is left out of the reckoning.
* § 25: a contractual period that ends on a Saturday, Sunday or public holiday runs to
  the next business day, unless the contract says otherwise (time of the essence).
* § 24: public holidays, see :mod:`contracts.holidays`.

Hours are elapsed time and are computed in UTC. Day and month periods are computed on
local dates and only then turned into an instant. Everything here is pure: no I/O.

The modules, by subject: ``model`` (periods, rules, anchors, computed deadlines),
``business`` (the contract's calendar and its business days), ``compute``
(``compute_deadline``), ``counting`` (day, business-day and month periods), ``rolling``
(§ 25 and the instant on the last day), ``hours`` (elapsed and business hours),
``localtime`` (zones and DST) and ``describing`` (dates, instants and deadlines in words). Import
from this package: its names are the calendar's interface.
"""

from __future__ import annotations

from contracts.calendar.business import ContractCalendar
from contracts.calendar.compute import compute_deadline
from contracts.calendar.counting import _add_months as _add_months  # the tests check it
from contracts.calendar.describing import (
    describe_day,
    describe_deadline,
    describe_instant,
    ends_its_last_day,
)
from contracts.calendar.jurisdictions import calendar_for
from contracts.calendar.model import Anchor, ComputedDeadline, DeadlineRule, Period, PeriodUnit
from contracts.calendar.model import DayEnd as DayEnd
from contracts.calendar.model import Direction as Direction
from contracts.calendar.model import Roll as Roll

__all__ = [
    "Anchor",
    "ComputedDeadline",
    "ContractCalendar",
    "DeadlineRule",
    "Period",
    "PeriodUnit",
    "calendar_for",
    "compute_deadline",
    "describe_day",
    "describe_deadline",
    "describe_instant",
    "ends_its_last_day",
]
