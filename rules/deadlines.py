"""Computing a case's deadlines from its rulebook, its contract's term sheet and its facts,
on the contract's calendar (contracts/calendar/), each with its explanation. Pure: the
case's local activity, the what-if and the API's previews all call it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from contracts.calendar import Anchor, DeadlineRule, Period, calendar_for, compute_deadline
from contracts.terms import TermSheet
from rules.rulebook import ExpandedDeadline, Rulebook


class DeadlineOutOfReach(ValueError):
    """The facts put a deadline where the calendar cannot count (a date beyond its range)."""


@dataclass
class DeadlineView:
    """A computed deadline as a case holds it."""

    name: str
    group: str
    label: str
    due_at: dt.datetime
    last_day: dt.date | None
    explanation: list[str]
    status: str = "pending"  # pending, reached, skipped, cancelled
    #: Its moment had passed when the case set it (the fact behind it came in late).
    passed_when_set: bool = False


def _parse_instant(value: Any) -> dt.datetime:
    instant = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if instant.tzinfo is None:
        raise ValueError(f"fact {value!r} has no UTC offset")
    return instant


def _is_date(value: Any) -> bool:
    """A plain calendar date such as a calculator's "2039-03-01", not an instant."""
    try:
        dt.date.fromisoformat(str(value))
    except ValueError:
        return False
    return len(str(value)) == 10


def _ends(value: str) -> Any:
    if value in ("end_of_day", "start_of_day"):
        return value
    hour, minute = value.split(":")
    return dt.time(int(hour), int(minute))


def _label(d: ExpandedDeadline) -> str:
    if d.name == d.group:
        return d.label
    # One of a repeated family (reminders): say which one.
    unit = d.spec.period.unit.replace("_", " ")
    if d.count == 1:
        unit = unit.rstrip("s")
    return f"{d.label} ({d.count} {unit} {d.spec.direction})"


def compute_deadlines(
    rb: Rulebook,
    terms: TermSheet,
    facts: Mapping[str, Any],
    names: Sequence[str],
    known: Mapping[str, DeadlineView] | None = None,
    dependents_of: str | None = None,
) -> list[DeadlineView]:
    """Computes the named deadlines (or deadline groups) on the contract's calendar.

    Args:
        rb: The case's rulebook.
        terms: The contract's term sheet.
        facts: The case's facts (start facts, recorded fields, calculators' outputs).
        names: Deadlines or deadline groups to compute.
        known: The case's deadlines so far: what a deadline counts from, if set already.
        dependents_of: Also compute the pending deadlines counted from this one (and from
            those, ...), e.g. the reminders before an effective date an operator amended.

    Raises:
        ValueError: a name the rulebook does not declare; ArithmeticError or ValueError
            when the facts put a deadline beyond the calendar.
    """
    expanded = rb.expanded_deadlines(rb.parameter_values(terms))
    calendar = calendar_for(terms)  # the governing law's
    known = dict(known or {})
    wanted = [n for n, d in expanded.items() if n in names or d.group in names]
    if dependents_of is not None:
        moved = {dependents_of}
        grew = True
        while grew:  # and what counts from those, until nothing more depends
            grew = False
            for n, d in expanded.items():
                pending = n in known and known[n].status == "pending"
                if pending and n not in wanted and d.spec.from_.deadline in moved:
                    wanted.append(n)
                    moved.add(n)
                    grew = True
    unknown = set(names) - {n for n in wanted} - {d.group for d in expanded.values()}
    if unknown:
        raise ValueError(f"rulebook declares no deadline named {sorted(unknown)}")
    out: list[DeadlineView] = []

    def compute(name: str) -> DeadlineView:
        d = expanded[name]
        source = d.spec.from_
        previous = known.get(name)
        if d.spec.recurring and previous is not None and previous.status == "reached":
            # The next period of a recurring deadline runs on from the last one.
            anchor = Anchor(
                instant=previous.due_at,
                label=f"the previous period ended ({previous.label.lower()})",
                day=previous.last_day,
            )
        elif source.fact is not None:
            # A start fact, a recorded field, or a calculator's output.
            spec = rb.facts.get(source.fact) or recorded_fields.get(source.fact)
            label = source.label or (spec.label if spec else source.fact.replace("_", " "))
            value = facts[source.fact]
            if (spec.type == "date") if spec is not None else _is_date(value):
                # A date fact counts from that local day (excluded by NY GCL § 20, or as
                # the term sheet's day count states under another law).
                day = dt.date.fromisoformat(str(value))
                start = dt.datetime.combine(day, dt.time(0), tzinfo=calendar.zone)
                anchor = Anchor(instant=start, label=label, day=day)
            else:
                anchor = Anchor(instant=_parse_instant(value), label=label)
        else:
            assert source.deadline is not None
            base = (
                known[source.deadline]
                if source.deadline in known and source.deadline not in wanted
                else compute_once(source.deadline)
            )
            anchor = Anchor(
                instant=base.due_at,
                label=source.label or base.label.lower(),
                day=base.last_day,
            )
        rule = DeadlineRule(
            period=Period(d.count, d.spec.period.unit),
            direction=d.spec.direction,
            roll=d.spec.effective_roll,  # type: ignore[arg-type]
            ends=_ends(d.spec.ends),
            label=d.label,
            clause_ref=f"MSA {rb.section}",
            **({"fixed_because": d.spec.fixed_because} if d.spec.fixed_because else {}),
        )
        c = compute_deadline(calendar, rule, anchor)
        return DeadlineView(
            name=name,
            group=d.group,
            label=_label(d),
            due_at=c.due_at.astimezone(dt.UTC),
            last_day=c.last_day,
            explanation=list(c.explanation),
        )

    recorded_fields = {f: s for rf in rb.recordable_facts.values() for f, s in rf.fields.items()}
    done: dict[str, DeadlineView] = {}

    def compute_once(name: str) -> DeadlineView:
        if name not in done:
            done[name] = compute(name)
        return done[name]

    for name in wanted:
        try:
            out.append(compute_once(name))
        except (ArithmeticError, ValueError) as exc:  # a date beyond the calendar, say
            raise DeadlineOutOfReach(
                f"deadline {name} cannot be computed from the case's facts: {exc}"
            ) from exc
    return out
