"""Where a proposal departs from the standard term sheet, as a person reviews it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from rules.proposal.found import Found, value_at

#: What every agreement has of its own: the parties and the day it takes effect differ
#: from any standard's without departing from it.
OWN_TO_EACH_AGREEMENT = ("customer.", "provider.", "effective_date")


@dataclass(frozen=True)
class Deviation:
    """Where the proposal departs from the standard term sheet."""

    path: str
    label: str
    value: Any
    standard: Any
    part: str | None
    text: str


def _said(value: Any) -> str:
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


def _same(ours: Any, theirs: Any) -> bool:
    try:
        # "25000.00" and "25000" are the same fee.
        return Decimal(str(ours)) == Decimal(str(theirs))
    except (InvalidOperation, ValueError):
        return _said(ours) == _said(theirs)


def deviations(found: list[Found], standard: dict[str, Any]) -> list[Deviation]:
    """Each figure found that differs from ``standard`` (a term sheet's JSON), as a person
    reviews it: "cure period 15 (your standard: 30), §10"."""
    out = []
    for f in found:
        theirs = value_at(standard, f.path)
        if theirs is None or f.path.startswith(OWN_TO_EACH_AGREEMENT) or _same(f.value, theirs):
            continue
        where = f", {f.part}" if f.part else ""
        text = f"{f.label}: {_said(f.value)} (your standard: {_said(theirs)}){where}"
        out.append(Deviation(f.path, f.label, f.value, theirs, f.part, text))
    return out
