"""Local activities that read the rulebooks: describe a rulebook, decide, compute deadlines.

They are pure functions of their inputs (the rulebooks are versioned files), so they
run as local activities and cost the case no extra round trips to the server.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.types import (
    INVALID_FACTS,
    ComputeDeadlinesInput,
    ComputeDeadlinesResult,
    DeadlineView,
    DecideInput,
    DecideResult,
    DecisionView,
    DeriveContext,
    DescribeRulebookInput,
    FieldInfo,
    RecordableFactInfo,
    RequireAnyTrueInfo,
    RulebookSummary,
    StateInfo,
)
from contracts.calculators import (
    CALCULATORS,
    CalculationContext,
    DeadlineState,
    RecordedFactView,
)
from contracts.calendar import Anchor, ContractCalendar, DeadlineRule, Period, compute_deadline
from contracts.terms import TermSheet
from rules import engine
from rules.rulebook import ExpandedDeadline, FactSpec, default_registry


def _field_info(spec: FactSpec) -> FieldInfo:
    return FieldInfo(
        type=spec.type,
        label=spec.label,
        required=spec.required,
        not_in_future=spec.not_in_future,
        day_of_month=spec.day_of_month,
        positive=spec.positive,
        may_precede_contract=spec.may_precede_contract,
        may_precede_opening=spec.may_precede_opening,
    )


def _invalid_facts(what: str, exc: Exception) -> ApplicationError:
    """Facts that slipped past the checks and break the arithmetic: the case fails
    visibly with the reason instead of retrying for ever."""
    return ApplicationError(
        f"{what} cannot be computed from the case's facts: {exc}",
        type=INVALID_FACTS,
        non_retryable=True,
    )


@activity.defn
def describe_rulebook(inp: DescribeRulebookInput) -> RulebookSummary:
    """Summarises the states, facts and notices of a pinned rulebook version."""
    rb = default_registry().get(inp.clause, inp.rulebook_version)
    return RulebookSummary(
        clause=rb.clause,
        version=rb.version,
        title=rb.title,
        section=rb.section,
        states={
            name: StateInfo(s.label, s.terminal, s.expected_dwell_days)
            for name, s in rb.states.items()
        },
        recordable_facts={
            name: RecordableFactInfo(
                label=f.label,
                allowed_in=list(f.allowed_in),
                required_fields=[k for k, v in f.fields.items() if v.required],
                allowed_before=f.allowed_before,
                require_any_true=[
                    RequireAnyTrueInfo(list(r.fields), r.message) for r in f.require_any_true
                ],
                text_fields=[k for k, v in f.fields.items() if v.type == "string"],
                fields={k: _field_info(v) for k, v in f.fields.items()},
            )
            for name, f in rb.recordable_facts.items()
        },
        notices_requiring_approval=[n for n, spec in rb.notices.items() if spec.requires_approval],
        start_facts={k: _field_info(v) for k, v in rb.facts.items()},
        opening_fact=rb.opening_fact,
        internal_notices=[
            n for n, spec in rb.notices.items() if set(spec.to) | set(spec.copy_) <= {"owner"}
        ],
        advance_deadlines=[n for n, d in rb.deadlines.items() if d.direction == "before"],
    )


def _scalars(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if isinstance(v, str | int | float | bool)}


def parameter_facts(clause: str, version: int, terms: dict[str, Any]) -> dict[str, Any]:
    """The rulebook's parameters (term-sheet figures) as facts the rules can test."""
    rb = default_registry().get(clause, version)
    if not rb.parameters:
        return {}
    return _scalars(rb.parameter_values(TermSheet.model_validate(terms)))


def derive_facts(clause: str, version: int, ctx: DeriveContext) -> dict[str, Any]:
    """Runs the rulebook's calculators and returns what they derived."""
    rb = default_registry().get(clause, version)
    if not rb.derive:
        return {}
    calc_ctx = CalculationContext(
        terms=TermSheet.model_validate(ctx.terms),
        facts=ctx.facts,
        recorded=[RecordedFactView(r.fact, r.values, r.at) for r in ctx.recorded],
        deadlines={
            k: DeadlineState(d.due_at, d.last_day, d.status) for k, d in ctx.deadlines.items()
        },
        now=ctx.now,
        opened_at=ctx.opened_at,
    )
    derived: dict[str, Any] = {}
    for name in rb.derive:
        try:
            derived.update(CALCULATORS[name].fn(calc_ctx))
        except (ArithmeticError, ValueError) as exc:
            raise _invalid_facts(f"calculator {name}", exc) from exc
    return derived


@activity.defn
def decide(inp: DecideInput) -> DecideResult:
    """Asks the case's rulebook which decisions follow from the facts.

    The rulebook's parameters (term-sheet figures) and its calculators' outputs join
    the facts the rules see; everything the calculators derived goes back to the case.
    """
    import time

    from runtime.observability import observe_decision_latency

    started = time.perf_counter()  # observability: decision latency (issue 6)
    facts = dict(inp.facts)
    derived: dict[str, Any] = {}
    if inp.context is not None:
        clause, version = str(facts["clause"]), int(str(facts["rulebook_version"]))
        # Term-sheet figures first: the event's own facts win on a name clash.
        facts = parameter_facts(clause, version, inp.context.terms) | facts
        derived = derive_facts(clause, version, inp.context)
        facts.update(_scalars(derived))
    decisions = engine.evaluate(facts)
    # Labels are the clause and the event kind only: never fact values (personal data).
    observe_decision_latency(
        time.perf_counter() - started,
        clause=str(inp.facts.get("clause", "")),
        event=str(inp.facts.get("event", "")),
    )
    return DecideResult([DecisionView(d.rule, d.action, d.value) for d in decisions], derived)


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


@activity.defn
def compute_deadlines(inp: ComputeDeadlinesInput) -> ComputeDeadlinesResult:
    """Computes the named deadlines (or deadline groups) on the contract's calendar."""
    rb = default_registry().get(inp.clause, inp.rulebook_version)
    terms = TermSheet.model_validate(inp.terms)
    expanded = rb.expanded_deadlines(rb.parameter_values(terms))
    calendar = ContractCalendar.from_terms(terms)
    known: dict[str, DeadlineView] = dict(inp.known)
    wanted = [n for n, d in expanded.items() if n in inp.names or d.group in inp.names]
    if inp.dependents_of is not None:
        moved = {inp.dependents_of}
        grew = True
        while grew:  # and what counts from those, until nothing more depends
            grew = False
            for n, d in expanded.items():
                pending = n in known and known[n].status == "pending"
                if pending and n not in wanted and d.spec.from_.deadline in moved:
                    wanted.append(n)
                    moved.add(n)
                    grew = True
    unknown = set(inp.names) - {n for n in wanted} - {d.group for d in expanded.values()}
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
            value = inp.facts[source.fact]
            if (spec.type == "date") if spec is not None else _is_date(value):
                # A date fact counts from that local day (NY GCL § 20 excludes it).
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
            raise _invalid_facts(f"deadline {name}", exc) from exc
    return ComputeDeadlinesResult(out)


@dataclass
class WhatIf:
    """What a case would decide and which deadlines it would set, without starting it."""

    clause: str
    rulebook_version: int
    state: str
    state_label: str
    decisions: list[DecisionView]
    deadlines: list[DeadlineView]


def what_if(terms: TermSheet, clause: str, facts: dict[str, Any], now: dt.datetime) -> WhatIf:
    """Runs a case's first step on paper: the rules' decisions and the deadlines they set.

    ``facts`` are start facts already checked by ``rules.facts.validate_start_facts``.
    Nothing is started and nothing is written.
    """
    rb = default_registry().latest(clause)
    terms_json = terms.model_dump(mode="json")
    derived = derive_facts(
        clause, rb.version, DeriveContext(terms_json, dict(facts), [], {}, now, now)
    )
    all_facts = {**facts, **derived}
    seen = parameter_facts(clause, rb.version, terms_json) | _scalars(all_facts)
    seen.update(clause=clause, rulebook_version=rb.version, event="case_started", state="opened")
    decisions = [DecisionView(d.rule, d.action, d.value) for d in engine.evaluate(seen)]
    state = "opened"
    to_set: list[str] = []
    for d in decisions:
        if d.action == "transition":
            state = d.value
        elif d.action == "set_deadlines":
            to_set.extend(d.value)
    deadlines = (
        compute_deadlines(
            ComputeDeadlinesInput(clause, rb.version, terms_json, all_facts, to_set)
        ).deadlines
        if to_set
        else []
    )
    label = rb.states[state].label if state in rb.states else state
    return WhatIf(
        clause=clause,
        rulebook_version=rb.version,
        state=state,
        state_label=label,
        decisions=decisions,
        deadlines=sorted(deadlines, key=lambda d: (d.due_at, d.name)),
    )
