"""The facts a rulebook adds to a case's own before its rules run: its parameters (the
term sheet's figures) and its calculators' outputs (each clause's own, in
rules/clauses/<clause>/calculators.py). Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from contracts.terms import TermSheet
from rules.calculators import CalculationContext, registered_calculators
from rules.rulebook import Rulebook


class CalculationFailed(ValueError):
    """A calculator could not compute from the case's facts (an amount out of reach, say)."""


def scalars(values: Mapping[str, Any]) -> dict[str, Any]:
    """The values the rules engine can test: strings, numbers and booleans."""
    return {k: v for k, v in values.items() if isinstance(v, str | int | float | bool)}


def parameter_facts(rb: Rulebook, terms: TermSheet) -> dict[str, Any]:
    """The rulebook's parameters (term-sheet figures) as facts the rules can test."""
    return scalars(rb.parameter_values(terms)) if rb.parameters else {}


def derived_facts(rb: Rulebook, ctx: CalculationContext) -> dict[str, Any]:
    """Runs the rulebook's calculators and returns what they derived.

    Raises:
        CalculationFailed: a calculator raised on the case's facts.
    """
    derived: dict[str, Any] = {}
    for name in rb.derive:
        try:
            derived.update(registered_calculators()[name].fn(ctx))
        except (ArithmeticError, ValueError) as exc:
            raise CalculationFailed(
                f"calculator {name} cannot be computed from the case's facts: {exc}"
            ) from exc
    return derived
