"""Pure rules of the case workflow about facts: how a recorded fact is checked against
what the case holds, and what a step that came too late sends, skips and holds.

Like every workflow module it is passed through the sandbox: it does no I/O and reads no
clock (tests/workflows/test_case_workflow_shape.py checks).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from activities.types import (
    CatchUpView,
    DeadlineView,
    DecisionView,
    FieldInfo,
    RecordableFactInfo,
    RulebookSummary,
)
from contracts.calendar import describe_instant
from rules.facts import FactContext, FactError, FactsError, check_recorded_fact, opening_of
from rules.rulebook import COULD_NOT_START


def story_began(
    summary: RulebookSummary, facts: Mapping[str, Any], opened_at: dt.datetime
) -> dt.datetime:
    """When a case's story began: its opening fact (a notice received, an incident
    reported), or, for a rulebook without one, when the case was opened."""
    opening = opening_of(summary.start_facts, summary.opening_fact, facts)
    return opening.at if opening is not None else opened_at


def catch_up(
    summary: RulebookSummary,
    zone: str,
    notices: Sequence[tuple[str, str]],
    reached: DeadlineView | None,
    set_late: Sequence[DeadlineView],
    decisions: Sequence[DecisionView],
) -> tuple[list[tuple[str, str, bool]], list[CatchUpView]]:
    """What a step that came too late sends, skips and holds.

    A deadline whose moment had passed when the case set it (a fact came in late) is
    still acted on, but its reminders to our own people are skipped (the deadline then
    reads "skipped"), and a notice to a party that would present a passed deadline as
    news waits for a person.

    Args:
        summary: The case's rulebook summary (which notices are internal, which
            deadlines are reminders counted back from another).
        zone: The contract's time zone, for the reasons.
        notices: ``(notice, rule)`` the rules decided in this step.
        reached: The deadline this step acts on, if it is a deadline's step.
        set_late: The deadlines this step set that had already passed.
        decisions: Every decision of the step.

    Returns:
        ``(notice, rule, hold)`` to send, and what was skipped or held, with why.
    """
    if reached is not None and reached.passed_when_set:
        why = (
            f"the {reached.label.lower()} ({describe_instant(reached.due_at, zone)}) had "
            "passed when the case learned of it"
        )
    elif news := [d for d in set_late if d.group not in summary.advance_deadlines]:
        # A reminder ahead of a deadline that passed is skipped when it is reached; a
        # notice written now is stale only if a deadline it reports has passed.
        passed = ", ".join(
            f"the {d.label.lower()} ({describe_instant(d.due_at, zone)})" for d in news
        )
        why = f"it would describe {passed}, which had passed when the case learned of it"
    else:
        return [(n, r, False) for n, r in notices], []
    outgoing: list[tuple[str, str, bool]] = []
    caught_up: list[CatchUpView] = []
    for notice, rule in notices:
        internal = notice in summary.internal_notices
        if internal and reached is not None:
            caught_up.append(CatchUpView(notice, "skipped", f"not sent: {why}"))
        elif internal:
            outgoing.append((notice, rule, False))
        else:
            caught_up.append(CatchUpView(notice, "held", f"held for approval: {why}"))
            outgoing.append((notice, rule, True))
    only_reminders = decisions and all(
        d.action == "send_notice" and d.value in summary.internal_notices for d in decisions
    )
    if reached is not None and only_reminders:
        reached.status = "skipped"  # a reminder whose moment had passed: nothing was done
    return outgoing, caught_up


def refusal_of_fact(
    summary: RulebookSummary,
    terms: Mapping[str, Any],
    zone: str,
    now: dt.datetime,
    *,
    state: str,
    facts: Mapping[str, Any],
    deadlines: Mapping[str, DeadlineView],
    fact: str,
    values: Mapping[str, Any],
) -> str | None:
    """Why a fact cannot be recorded on the case as it is (None: it can), by the checks
    the API makes too (rules.facts), against the case's own state, deadlines and clock."""
    if fact not in summary.recordable_facts:
        known = ", ".join(sorted(summary.recordable_facts)) or "none"
        return f"fact {fact!r} is not recordable in this case (known: {known})"
    effective = terms.get("effective_date")
    ctx = FactContext(
        time_zone=zone,
        now=now,
        effective_date=dt.date.fromisoformat(str(effective)) if effective else None,
        opening=opening_of(summary.start_facts, summary.opening_fact, facts),
    )
    terminal = [n for n, s in summary.states.items() if s.terminal] + [COULD_NOT_START]
    try:
        check_recorded_fact(
            {fact: _with_fields(summary.recordable_facts[fact], values)},
            fact,
            values,
            ctx,
            state=state,
            terminal_states=terminal,
            deadlines=deadlines,
        )
    except FactsError as exc:
        return "; ".join(_said(e) for e in exc.errors)
    return None


def _said(error: FactError) -> str:
    """ "values.agreed_on must not be in the future"; a state or window refusal as it is."""
    return f"{error.field} {error.message}" if error.field.startswith("values") else error.message


def _with_fields(info: RecordableFactInfo, values: Mapping[str, Any]) -> RecordableFactInfo:
    """The fact's spec with its fields; a case opened before the summary kept their types
    knows its required fields by name only, and takes the values as the API checked them."""
    if info.fields:
        return info
    fields = {name: FieldInfo("any", name) for name in values}
    fields.update({name: FieldInfo("any", name, required=True) for name in info.required_fields})
    return dataclasses.replace(info, fields=fields)
