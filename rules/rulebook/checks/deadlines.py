"""The checks of deadlines: each counts from a declared moment (a date or datetime fact,
a calculator's output, or another deadline, without a circle), names declared
parameters, and uses ``repeat_for``, ``each``, ``recurring`` and ``roll`` consistently.
"""

from __future__ import annotations

from typing import Any

from rules.rulebook.checks.context import Context
from rules.rulebook.errors import did_you_mean
from rules.rulebook.model import EachRef, FactSpec, ParamRef
from rules.rulebook.vocabulary import TIME_TYPES


def check_deadlines(ctx: Context) -> None:
    """Each deadline counts from a declared moment, with a consistent period."""
    rb = ctx.rb
    for name, spec in rb.deadlines.items():
        base = ("deadlines", name)
        source = spec.from_
        if source.fact is not None:
            fact = _time_fact(ctx, source.fact)
            if fact is None and source.fact in ctx.derived_outputs():
                pass  # a calculator's output: its type is the calculator's promise
            elif fact is None:
                known = [*rb.facts, *ctx.recorded_fields()]
                raise ctx.fail(
                    (*base, "from", "fact"),
                    f"deadline {name!r} counts from undeclared fact {source.fact!r}"
                    + did_you_mean(source.fact, known),
                )
            elif fact.type not in TIME_TYPES:
                raise ctx.fail(
                    (*base, "from", "fact"),
                    f"deadline {name!r} counts from fact {source.fact!r} of type "
                    f"{fact.type}; it must be a datetime or date",
                )
        else:
            _deadline_chain(ctx, name)
        count = spec.period.count
        if count == 0 and spec.period.unit != "hours":
            raise ctx.fail(
                (*base, "period", "count"),
                f"deadline {name!r}: a period of 0 is only meaningful in hours "
                "(the deadline falls at the instant it counts from)",
            )
        if isinstance(count, ParamRef):
            _param(ctx, (*base, "period", "count", "param"), count.param)
        if spec.repeat_for is not None:
            _param(ctx, (*base, "repeat_for", "param"), spec.repeat_for.param)
            if not isinstance(count, EachRef):
                raise ctx.fail(
                    (*base, "period", "count"),
                    f"deadline {name!r} repeats, so its count must be {{each: true}}",
                )
        elif isinstance(count, EachRef):
            raise ctx.fail(
                (*base, "period", "count"),
                f"deadline {name!r}: {{each: true}} needs repeat_for",
            )
        if spec.recurring and spec.repeat_for is not None:
            raise ctx.fail(
                (*base, "recurring"),
                f"deadline {name!r} cannot both repeat_for a list and recur",
            )
        if spec.time_of_the_essence and spec.roll != "none" and "roll" in spec.model_fields_set:
            raise ctx.fail(
                (*base, "roll"),
                f"deadline {name!r} is time of the essence, so it cannot roll {spec.roll}",
            )


def _time_fact(ctx: Context, name: str) -> FactSpec | None:
    """A start fact, or a field of a recordable fact, that a deadline may count from."""
    return ctx.rb.facts.get(name) or ctx.recorded_fields().get(name)


def _deadline_chain(ctx: Context, name: str) -> None:
    rb = ctx.rb
    seen = [name]
    current = name
    while (target := rb.deadlines[current].from_.deadline) is not None:
        path = ("deadlines", current, "from", "deadline")
        if target not in rb.deadlines:
            raise ctx.fail(
                path,
                f"deadline {current!r} counts from undeclared deadline {target!r}"
                + did_you_mean(target, rb.deadlines),
            )
        if rb.deadlines[target].repeat_for is not None:
            raise ctx.fail(
                path,
                f"deadline {current!r} cannot count from {target!r}, which repeats",
            )
        if target in seen:
            cycle = " -> ".join([*seen, target])
            raise ctx.fail(("deadlines", name, "from", "deadline"), f"circular deadlines: {cycle}")
        seen.append(target)
        current = target


def _param(ctx: Context, path: tuple[Any, ...], param: str) -> None:
    if param not in ctx.rb.parameters:
        raise ctx.fail(
            path,
            f"undeclared parameter {param!r}" + did_you_mean(param, ctx.rb.parameters),
        )
