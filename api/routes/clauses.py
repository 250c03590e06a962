"""Clauses: which rulebooks exist and which facts start a case of each."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.access import Reader
from api.schemas import ClausePublic
from rules.rulebook import Rulebook, default_registry

router = APIRouter(prefix="/api/clauses", tags=["clauses"])


def _figures(rb: Rulebook) -> dict[str, Any]:
    """Each declared figure: its term-sheet path, type, default, section and label."""
    out: dict[str, Any] = {}
    for name, spec in rb.parameters.items():
        if isinstance(spec, str):
            out[name] = {"term": spec}
            continue
        section = spec.section or (rb.terms.section if rb.terms else None)
        out[name] = {
            "term": rb.parameter_path(name),
            "type": spec.type,
            "default": spec.default,
            "section": section,
            "label": spec.label,
        }
    return out


@router.get("", response_model=list[ClausePublic])
def list_clauses(_: Reader) -> list[ClausePublic]:
    """The clauses Clauseflow can run, with the facts each needs (latest versions)."""
    registry = default_registry()
    out = []
    for clause in registry.clauses():
        rb = registry.latest(clause)
        out.append(
            ClausePublic(
                clause=rb.clause,
                version=rb.version,
                title=rb.title,
                section=rb.section,
                summary=rb.summary,
                facts={k: v.model_dump() for k, v in rb.facts.items()},
                recordable_facts={k: v.model_dump() for k, v in rb.recordable_facts.items()},
                states={k: v.model_dump() for k, v in rb.states.items()},
                figures=_figures(rb),
                starts_with_contract=rb.starts_with_contract is not None,
            )
        )
    return out
