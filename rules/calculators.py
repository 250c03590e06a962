"""Calculators: pure computations a rulebook asks for before its rules are evaluated.

A rulebook lists calculators under ``derive``. Before each evaluation the decide
activity runs them on the case's facts, recorded facts, deadlines and the workflow's
clock, and adds their outputs to the facts the rules see (and to the case's facts,
so notices can quote them). Rules compare scalars, so calculators turn money and
time into plain numbers and flags; the Decimal amounts travel as strings.

A clause keeps its calculators in its own folder, ``rules/clauses/<clause>/calculators.py``,
registered with :func:`calculator`; :func:`registered_calculators` imports every such
module once. This module holds only what they share.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from contracts.terms import TermSheet
from rules.rulebook.terms import CLAUSES_DIR


@dataclass(frozen=True)
class RecordedFactView:
    fact: str
    values: Mapping[str, Any]
    at: dt.datetime


@dataclass(frozen=True)
class DeadlineState:
    due_at: dt.datetime
    last_day: dt.date | None
    status: str


@dataclass(frozen=True)
class CalculationContext:
    """What a calculator may look at. ``now`` is the workflow's clock.

    ``terms`` is the contract's term sheet with every declared figure filled in
    (``RulebookRegistry.complete_terms``).
    """

    terms: TermSheet
    facts: Mapping[str, Any]
    recorded: Sequence[RecordedFactView]
    deadlines: Mapping[str, DeadlineState]
    now: dt.datetime
    opened_at: dt.datetime

    def term(self, path: str) -> Any:
        """A figure of the term sheet's ``clauses``, such as ``payment.payment_days``."""
        return self.terms.parameter(f"clauses.{path}")

    def latest_recorded(self, fact: str, field: str) -> dt.datetime | None:
        """The ``field`` instant of the latest recording of ``fact``, or None."""
        for r in reversed(self.recorded):
            if r.fact == fact:
                return instant_or_none(r.values.get(field))
        return None


@dataclass(frozen=True)
class Calculator:
    name: str
    outputs: tuple[str, ...]
    fn: Callable[[CalculationContext], dict[str, Any]]
    description: str = ""


#: Every calculator, by name, once :func:`registered_calculators` has imported them.
CALCULATORS: dict[str, Calculator] = {}


def calculator(name: str, outputs: tuple[str, ...], description: str) -> Callable[..., Any]:
    """Registers a clause's calculator under ``name``; ``outputs`` are the facts it adds."""

    def register(fn: Callable[[CalculationContext], dict[str, Any]]) -> Any:
        known = CALCULATORS.get(name)
        if known is not None and known.fn.__module__ != fn.__module__:
            raise ValueError(
                f"calculator {name!r} is defined in {known.fn.__module__} and {fn.__module__}"
            )
        CALCULATORS[name] = Calculator(name, outputs, fn, description)
        return fn

    return register


@functools.cache
def registered_calculators() -> Mapping[str, Calculator]:
    """Every clause's calculators, imported from ``rules/clauses/*/calculators.py`` once."""
    for module in sorted(CLAUSES_DIR.glob("*/calculators.py")):
        importlib.import_module(f"rules.clauses.{module.parent.name}.calculators")
    return CALCULATORS


def money(value: Any) -> Decimal:
    """An amount recorded as text or a number; nothing recorded is zero."""
    return Decimal(str(value)) if value not in (None, "") else Decimal("0")


def parse_instant(value: Any) -> dt.datetime:
    """An instant recorded as ISO 8601 text, with "Z" read as UTC."""
    return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def instant_or_none(value: Any) -> dt.datetime | None:
    """An instant with its UTC offset, or None when nothing was recorded."""
    if value in (None, ""):
        return None
    instant = parse_instant(value)
    if instant.tzinfo is None:
        raise ValueError(f"{value!r} has no UTC offset")
    return instant
