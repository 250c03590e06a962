"""The clause's deadlines, counted with Clauseflow's calendar (contracts/calendar).

MSA §10 as rulebook v3 states it: the termination takes effect at the start of the day
``notice_period_days`` calendar days after the notice was received (NY GCL § 20 and
§ 25), and the owner is reminded at 09:00 on each of ``reminder_days_before`` calendar
days before that day, moved back to a business day. The same rules and wording as the
rulebook's, so both compute the same instants with the same explanations.

Pure (no I/O but the time-zone data, read once per process), so the workflow calls it
itself: the module is passed through the sandbox.
"""

from __future__ import annotations

import datetime as dt

from bench.handwritten.shared import Deadline, TerminationTerms
from contracts.calendar import Anchor, ContractCalendar, DeadlineRule, Period, compute_deadline

EFFECTIVE_DATE = "effective_date"
REMINDER = "reminder"
_CLAUSE_REF = "MSA §10"
_EFFECTIVE_LABEL = "Termination takes effect"
_REMINDER_LABEL = "Reminder to the contract owner before the effective date"


def termination_deadlines(received: dt.datetime, terms: TerminationTerms) -> list[Deadline]:
    """The effective date, then the reminders, each with its explanation."""
    calendar = ContractCalendar(
        time_zone=terms.time_zone,
        holidays=terms.holiday_calendar,
        business_weekdays=tuple(terms.business_weekdays),
    )
    effective = compute_deadline(
        calendar,
        DeadlineRule(
            Period(terms.notice_period_days, "calendar_days"),
            ends="start_of_day",
            label=_EFFECTIVE_LABEL,
            clause_ref=_CLAUSE_REF,
        ),
        Anchor(received, "the termination notice was received"),
    )
    out = [
        Deadline(
            name=EFFECTIVE_DATE,
            group=EFFECTIVE_DATE,
            label=_EFFECTIVE_LABEL,
            due_at=effective.due_at.astimezone(dt.UTC),
            last_day=effective.last_day,
            explanation=list(effective.explanation),
        )
    ]
    # Counted back from the effective day itself, not from its instant (midnight).
    anchor = Anchor(effective.due_at, _EFFECTIVE_LABEL.lower(), day=effective.last_day)
    for days in terms.reminder_days_before:
        reminder = compute_deadline(
            calendar,
            DeadlineRule(
                Period(days, "calendar_days"),
                direction="before",
                roll="backward",
                ends=dt.time(9, 0),
                label=_REMINDER_LABEL,
                clause_ref=_CLAUSE_REF,
            ),
            anchor,
        )
        unit = "calendar day" if days == 1 else "calendar days"
        out.append(
            Deadline(
                name=f"{REMINDER}_{days}",
                group=REMINDER,
                label=f"{_REMINDER_LABEL} ({days} {unit} before)",
                due_at=reminder.due_at.astimezone(dt.UTC),
                last_day=reminder.last_day,
                explanation=list(reminder.explanation),
            )
        )
    return out
