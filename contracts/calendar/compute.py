"""``compute_deadline``: an event and a rule to a deadline, by unit, with the first steps
of its explanation (the event, the rule)."""

from __future__ import annotations

from datetime import UTC

from contracts.calendar.business import ContractCalendar
from contracts.calendar.counting import _day_period
from contracts.calendar.describing import _capitalised, describe_day, describe_instant
from contracts.calendar.hours import _business_hours, _elapsed_hours
from contracts.calendar.model import Anchor, ComputedDeadline, DeadlineRule

_DAY_UNITS = ("calendar_days", "business_days", "months")


def compute_deadline(
    calendar: ContractCalendar, rule: DeadlineRule, anchor: Anchor
) -> ComputedDeadline:
    """Computes a deadline from an event under a rule, with a plain-language account.

    Day units (calendar_days, business_days) and months count local dates from the
    event day (excluded, NY GCL § 20, or as the term sheet's convention states under
    another law), roll per ``rule.roll`` (or the convention's) and then fall at
    ``rule.ends`` on the last day. ``hours`` are elapsed time in UTC and never roll.
    ``business_hours`` consume opening hours, skipping closed days; "before" counts
    business hours back from the anchor (e.g. notice due N business hours before
    maintenance starts).

    Args:
        calendar: The contract's calendar.
        rule: The clause's rule.
        anchor: The event.

    Returns:
        The deadline instant (UTC and local), the last day for day units, and the steps.
    """
    steps = [_event_step(calendar, anchor, rule.period.unit in _DAY_UNITS)]
    steps.append(_rule_step(rule, anchor))
    convention = calendar.convention_step()
    if convention is not None:  # not New York: say how this contract counts, and why
        steps.append(convention)
    if rule.period.unit == "hours":
        due = _elapsed_hours(calendar, rule, anchor, steps)
        last_day = None
    elif rule.period.unit == "business_hours":
        due = _business_hours(calendar, rule, anchor, steps)
        last_day = None
    else:
        last_day, due = _day_period(calendar, rule, anchor, steps)
    return ComputedDeadline(
        due_at=due,
        local_due=due.astimezone(calendar.zone),
        last_day=last_day,
        explanation=tuple(steps),
    )


def _event_step(calendar: ContractCalendar, anchor: Anchor, counts_days: bool) -> str:
    tz = calendar.time_zone
    local = anchor.instant.astimezone(calendar.zone)
    utc = anchor.instant.astimezone(UTC)
    step = f"Event: {anchor.label} at {describe_instant(anchor.instant, tz)}"
    if utc.date() == local.date() or not counts_days:
        step += f" ({describe_instant(utc, 'UTC')})."
    else:
        step += (
            f". In UTC that is {describe_instant(utc, 'UTC')}, but days are counted by the"
            f" local date in the contract's time zone ({tz}), so the event day is"
            f" {describe_day(local.date())}."
        )
    if counts_days and anchor.day is not None and anchor.day != local.date():
        step += f" The count runs from {describe_day(anchor.day)}, the day given for this event."
    return step


def _rule_step(rule: DeadlineRule, anchor: Anchor) -> str:
    where = f" ({rule.clause_ref})" if rule.clause_ref else ""
    label = _capitalised(rule.label)
    if rule.period.count == 0:
        return f"Rule{where}: {label} at the moment {anchor.label}."
    return f"Rule{where}: {label} {rule.period.describe()} {rule.direction} {anchor.label}."
