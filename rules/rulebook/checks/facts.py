"""The checks of facts and states: no name the engine keeps for itself, the flags of each
start fact and recordable field fit its type, ``opened_by`` names a moment, no state is
the engine's own, and a recordable fact names declared states and deadlines and its own
boolean fields.
"""

from __future__ import annotations

from typing import Any

from rules.rulebook.checks.context import Context
from rules.rulebook.errors import did_you_mean
from rules.rulebook.model import FactSpec
from rules.rulebook.vocabulary import COULD_NOT_START, NUMBER_TYPES, RESERVED_NAMES, TIME_TYPES


def check_reserved_names(ctx: Context) -> None:
    """No parameter, start fact or recordable field takes a name the engine uses."""
    rb = ctx.rb
    groups: list[tuple[tuple[Any, ...], Any]] = [
        (("parameters",), rb.parameters),
        (("facts",), rb.facts),
    ]
    groups += [
        (("recordable_facts", n, "fields"), r.fields) for n, r in rb.recordable_facts.items()
    ]
    for path, names in groups:
        for name in names:
            if name in RESERVED_NAMES:
                raise ctx.fail(
                    (*path, name),
                    f"{name!r} is reserved for the engine; choose another name",
                )


def check_start_facts(ctx: Context) -> None:
    """Each start fact's flags fit its type; ``opened_by`` names a datetime or date fact."""
    rb = ctx.rb
    for name, spec in rb.facts.items():
        _fact_spec(ctx, ("facts", name), spec)
    if rb.opened_by is not None:
        opening = rb.facts.get(rb.opened_by)
        if opening is None or opening.type not in TIME_TYPES:
            raise ctx.fail(
                ("opened_by",),
                f"opened_by must name a datetime or date start fact, not {rb.opened_by!r}"
                + did_you_mean(rb.opened_by, rb.facts),
            )


def check_starts_with_contract(ctx: Context) -> None:
    """A case that starts with the contract gets a date for each fact named, and every
    required start fact is among them (registration has nothing else to give)."""
    rb = ctx.rb
    if rb.starts_with_contract is None:
        return
    given = rb.starts_with_contract.facts
    for name in given:
        spec = rb.facts.get(name)
        if spec is None or spec.type != "date":
            raise ctx.fail(
                ("starts_with_contract", "facts", name),
                f"starts_with_contract gives a date, so {name!r} must be a date start fact"
                + did_you_mean(name, rb.facts),
            )
    missing = [n for n, s in rb.facts.items() if s.required and n not in given]
    if missing:
        raise ctx.fail(
            ("starts_with_contract",),
            f"a case that starts with the contract has only the contract's facts; "
            f"required start facts {missing} would be missing",
        )


def check_states(ctx: Context) -> None:
    """No state is the engine's own :data:`COULD_NOT_START`."""
    if COULD_NOT_START in ctx.rb.states:
        raise ctx.fail(
            ("states", COULD_NOT_START),
            f"{COULD_NOT_START!r} is the engine's own state for a case that cannot start",
        )


def _fact_spec(ctx: Context, path: tuple[Any, ...], spec: FactSpec, recorded: bool = False) -> None:
    timed = ("not_in_future", "may_precede_contract", "may_precede_opening")
    for flag in timed:
        if getattr(spec, flag) and spec.type not in TIME_TYPES:
            raise ctx.fail(
                (*path, flag),
                f"{flag} applies only to datetime and date facts, not {spec.type}",
            )
    if spec.may_precede_opening and not recorded:
        raise ctx.fail(
            (*path, "may_precede_opening"),
            "may_precede_opening applies only to the fields of recordable facts",
        )
    if spec.positive and spec.type not in NUMBER_TYPES:
        raise ctx.fail(
            (*path, "positive"),
            f"positive applies only to {', '.join(NUMBER_TYPES)} facts, not {spec.type}",
        )
    if spec.one_of is not None:
        if spec.type != "string":
            raise ctx.fail(
                (*path, "one_of"), f"one_of applies only to string facts, not {spec.type}"
            )
        if not spec.one_of or len(set(spec.one_of)) != len(spec.one_of):
            raise ctx.fail((*path, "one_of"), "one_of lists each allowed value once, at least one")
    if spec.day_of_month is not None and spec.type != "date":
        raise ctx.fail(
            (*path, "day_of_month"),
            f"day_of_month applies only to date facts, not {spec.type}",
        )


def check_recordable_facts(ctx: Context) -> None:
    """Each recordable fact names declared states and deadlines and its own fields."""
    rb = ctx.rb
    for name, spec in rb.recordable_facts.items():
        for i, state in enumerate(spec.allowed_in):
            if state not in rb.states:
                raise ctx.fail(
                    ("recordable_facts", name, "allowed_in", i),
                    f"recordable fact {name!r} is allowed in undeclared state {state!r}"
                    + did_you_mean(state, rb.states),
                )
        for field, field_spec in spec.fields.items():
            _fact_spec(ctx, ("recordable_facts", name, "fields", field), field_spec, recorded=True)
        if spec.allowed_before is not None and not ctx.known_deadline(spec.allowed_before):
            raise ctx.fail(
                ("recordable_facts", name, "allowed_before"),
                f"recordable fact {name!r} is allowed before undeclared deadline "
                f"{spec.allowed_before!r}" + did_you_mean(spec.allowed_before, rb.deadlines),
            )
        for i, req in enumerate(spec.require_any_true):
            for field in req.fields:
                f = spec.fields.get(field)
                if f is None or f.type != "boolean":
                    raise ctx.fail(
                        ("recordable_facts", name, "require_any_true", i, "fields"),
                        f"recordable fact {name!r}: require_any_true names {field!r}, "
                        "which is not one of its boolean fields",
                    )


def check_identity(ctx: Context) -> None:
    """The facts that identify a case are start facts of the rulebook."""
    for n, fact in enumerate(ctx.rb.identified_by):
        if fact not in ctx.rb.facts:
            raise ctx.fail(
                ("identified_by", n),
                f"identified_by names {fact!r}, which is not a start fact"
                + did_you_mean(fact, ctx.rb.facts),
            )
