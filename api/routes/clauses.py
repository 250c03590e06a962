"""Clauses: which rulebooks exist and which facts start a case of each."""

from __future__ import annotations

from fastapi import APIRouter

from api.access import Reader
from api.schemas import ClausePublic
from rules.rulebook import default_registry

router = APIRouter(prefix="/api/clauses", tags=["clauses"])


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
            )
        )
    return out
