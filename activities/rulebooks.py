"""Local activities that read the rulebooks: describe a rulebook, decide, compute deadlines.

They are pure functions of their inputs (the rulebooks are versioned files), so they
run as local activities and cost the case no extra round trips to the server. The
computing itself is in rules/ (deadlines, derive, engine); these turn facts that cannot
be computed into the non-retryable ``InvalidFacts`` the case shows a person.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.types import (
    INVALID_FACTS,
    AgreementEmitInfo,
    ComputeDeadlinesInput,
    ComputeDeadlinesResult,
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
    TakeStepInput,
    TakeStepResult,
)
from rules import deadlines, derive, engine, senders
from rules.calculators import CalculationContext, DeadlineState, RecordedFactView
from rules.rulebook import FactSpec, default_registry


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
        one_of=list(spec.one_of) if spec.one_of is not None else None,
    )


def _invalid_facts(exc: Exception) -> ApplicationError:
    """Facts that slipped past the checks and break the arithmetic: the case fails
    visibly with the reason instead of retrying for ever."""
    return ApplicationError(str(exc), type=INVALID_FACTS, non_retryable=True)


@activity.defn
def describe_rulebook(inp: DescribeRulebookInput) -> RulebookSummary:
    """Summarises the states, facts and notices of a pinned rulebook version (the local
    activity of cases that began before their workflow read it as ``summarise``)."""
    return summarise(inp)


def summarise(inp: DescribeRulebookInput) -> RulebookSummary:
    """Summarises the states, facts and notices of a pinned rulebook version.

    Workflow code calls this directly: a released rulebook version never changes
    (rules/released.json) and the worker loads the registry before it polls, so the
    summary is the same on every replay, like the workflow's own code. What it returns
    is part of that code: a change to it is a workflow change, patched like one.
    """
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
        agreement_events={
            state: AgreementEmitInfo(e.event, e.route, e.dated_by, dict(e.values))
            for state, e in rb.agreement.emits.items()
        },
        agreement_events_with_notice={
            notice: AgreementEmitInfo(e.event, e.route, e.dated_by, dict(e.values))
            for notice, e in rb.agreement.emits_with_notice.items()
        },
    )


def parameter_facts(clause: str, version: int, terms: dict[str, Any]) -> dict[str, Any]:
    """The rulebook's parameters (term-sheet figures) as facts the rules can test."""
    rb = default_registry().get(clause, version)
    return derive.parameter_facts(rb, default_registry().terms_to_read(terms))


def derive_facts(clause: str, version: int, ctx: DeriveContext) -> dict[str, Any]:
    """Runs the rulebook's calculators and returns what they derived."""
    rb = default_registry().get(clause, version)
    if not rb.derive:
        return {}
    calc_ctx = CalculationContext(
        terms=default_registry().terms_to_read(ctx.terms),
        facts=ctx.facts,
        recorded=[RecordedFactView(r.fact, r.values, r.at) for r in ctx.recorded],
        deadlines={
            k: DeadlineState(d.due_at, d.last_day, d.status) for k, d in ctx.deadlines.items()
        },
        now=ctx.now,
        opened_at=ctx.opened_at,
    )
    try:
        return derive.derived_facts(rb, calc_ctx)
    except derive.CalculationFailed as exc:
        raise _invalid_facts(exc) from exc


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
    sort = None
    if inp.context is not None:
        clause, version = str(facts["clause"]), int(str(facts["rulebook_version"]))
        rb = default_registry().get(clause, version)
        terms = default_registry().terms_to_read(inp.context.terms)
        # Term-sheet figures first: the event's own facts win on a name clash.
        facts = derive.parameter_facts(rb, terms) | facts
        facts.update(senders.side_facts(rb, terms, facts))
        derived = derive_facts(clause, version, inp.context)
        facts.update(derive.scalars(derived))
        sort = (rb, terms)
    decisions = engine.evaluate(facts)
    if sort is not None:
        # Only our side's notices go out; the other party's are expected instead.
        decisions = senders.sort_decisions(*sort, facts, decisions)
    # Labels are the clause and the event kind only: never fact values (personal data).
    observe_decision_latency(
        time.perf_counter() - started,
        clause=str(inp.facts.get("clause", "")),
        event=str(inp.facts.get("event", "")),
    )
    return DecideResult([DecisionView(d.rule, d.action, d.value) for d in decisions], derived)


@activity.defn
def compute_deadlines(inp: ComputeDeadlinesInput) -> ComputeDeadlinesResult:
    """Computes the named deadlines (or deadline groups) on the contract's calendar."""
    try:
        computed = deadlines.compute_deadlines(
            default_registry().get(inp.clause, inp.rulebook_version),
            default_registry().terms_to_read(inp.terms),
            inp.facts,
            inp.names,
            inp.known,
            inp.dependents_of,
        )
    except deadlines.DeadlineOutOfReach as exc:
        raise _invalid_facts(exc) from exc
    return ComputeDeadlinesResult(computed)


@activity.defn
def take_step(inp: TakeStepInput) -> TakeStepResult:
    """One event's decisions, and the deadlines they set, in one local activity.

    The deadlines are computed on the facts and deadlines as the case holds them once
    it has applied the decisions (workflows/steps.py): the derived facts and the
    ``record`` decisions joined, the reached deadline marked reached.
    """
    decided = decide(DecideInput(inp.facts, inp.context))
    names = [n for d in decided.decisions if d.action == "set_deadlines" for n in d.value]
    if not names:
        return TakeStepResult(decided.decisions, decided.derived)
    facts = {**inp.context.facts, **decided.derived}
    for d in decided.decisions:
        if d.action == "record":
            facts.update(d.value)
    known = dict(inp.context.deadlines)
    if inp.reached is not None and inp.reached in known:
        known[inp.reached] = dataclasses.replace(known[inp.reached], status="reached")
    computed = compute_deadlines(
        ComputeDeadlinesInput(
            str(inp.facts["clause"]),
            int(str(inp.facts["rulebook_version"])),
            inp.context.terms,
            facts,
            names,
            known,
        )
    )
    return TakeStepResult(decided.decisions, decided.derived, computed.deadlines)
