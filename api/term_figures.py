"""The term sheet's figures as the contract page shows them: each heading with its section
or exhibit, each figure with the label its rulebook declares and the contract's value
(the declared default where the term sheet leaves it out, said so)."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rules.rulebook import default_registry
from rules.rulebook.terms import Declarations, declarations


@dataclass(frozen=True)
class Figure:
    label: str
    value: str
    path: str
    defaulted: bool


@dataclass
class FigureGroup:
    title: str
    where: str
    figures: list[Figure] = field(default_factory=list)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or "none"
    return str(value)


def _where(section: Any, exhibit: Any) -> str:
    parts = [f"§{section}" if section else "", f"Exhibit {exhibit}" if exhibit else ""]
    return ", ".join(p for p in parts if p)


@functools.cache
def _declared() -> Declarations:
    # The rulebooks are loaded once a process, so what they declare is read once too.
    return declarations(default_registry().all())


def term_sheet_figures(terms: Mapping[str, Any]) -> list[FigureGroup]:
    """The contract's figures by heading, in the term sheet's order of headings."""
    registry = default_registry()
    declared = _declared()
    try:
        completed = registry.terms_to_read(dict(terms)).model_dump(mode="json")["clauses"]
    except ValueError:  # a stored term sheet the rulebooks no longer accept: none shown
        return []
    given = terms.get("clauses") or {}
    fees = terms.get("fees") or {}
    groups = [
        FigureGroup(
            "Fees",
            "Exhibit B",
            [
                Figure(label, _text(fees[name]), f"fees.{name}", False)
                for name, label in (
                    ("monthly_fee", "Monthly fee"),
                    ("usage_fee_per_gb", "Usage fee per GB"),
                    ("additional_services_hourly", "Additional services, per hour"),
                )
                if name in fees
            ],
        )
    ]
    for heading, h in declared.headings.items():
        values = completed.get(heading) or {}
        stated = given.get(heading) or {}
        group = FigureGroup(
            heading.replace("_", " ").capitalize().replace("Sla ", "SLA "),
            _where(
                values.get("section") or h.declared.section,
                values.get("exhibit") or h.declared.exhibit,
            ),
        )
        for name, fig in h.figures.items():
            if name in values:
                group.figures.append(
                    Figure(
                        fig.spec.label,
                        _text(values[name]),
                        f"clauses.{heading}.{name}",
                        name not in stated,
                    )
                )
        if group.figures:
            groups.append(group)
    top = FigureGroup("The agreement", "")
    for name, fig in declared.top.items():
        if name in completed:
            top.figures.append(
                Figure(
                    fig.spec.label,
                    _text(completed[name]),
                    f"clauses.{name}",
                    name not in given,
                )
            )
    if top.figures:
        groups.append(top)
    return groups
