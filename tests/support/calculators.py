"""What a calculator sees, built for a test, and a run that checks what it returns."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from contracts.terms import TermSheet
from rules.calculators import (
    CalculationContext,
    DeadlineState,
    RecordedFactView,
    registered_calculators,
)
from workers.seed import reference_term_sheet

#: A recorded fact as a test writes it: (fact, values, when it was recorded).
Recorded = tuple[str, Mapping[str, Any], dt.datetime]


def calculation_context(
    *,
    now: dt.datetime,
    facts: Mapping[str, Any] | None = None,
    recorded: Iterable[Recorded] = (),
    deadlines: Mapping[str, DeadlineState] | None = None,
    opened_at: dt.datetime | None = None,
    terms: TermSheet | None = None,
) -> CalculationContext:
    """A case at ``now``: opened then unless ``opened_at`` says, on the reference MSA's terms
    unless ``terms`` says."""
    return CalculationContext(
        terms=terms or reference_term_sheet(),
        facts=facts or {},
        recorded=[RecordedFactView(fact, values, at) for fact, values, at in recorded],
        deadlines=deadlines or {},
        now=now,
        opened_at=opened_at or now,
    )


def run_calculator(name: str, ctx: CalculationContext) -> dict[str, Any]:
    """Runs the calculator registered as ``name``; it must return just the outputs it declares."""
    calc = registered_calculators()[name]
    out = calc.fn(ctx)
    assert set(out) == set(calc.outputs)
    return out
