"""``GET /api/contracts/{id}/provenance``: where each value of a contract's term sheet came
from, when it was accepted from the agreement's text (issue 16, part 2)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from api.access import Reader
from api.deps import SessionDep
from store.agreements import provenance_of
from store.models import Contract

router = APIRouter(prefix="/api/contracts/{contract_id}/provenance", tags=["contracts"])


class FigureSource(BaseModel):
    """One value of the term sheet: what was accepted, how, and from which sentence."""

    model_config = ConfigDict(from_attributes=True)

    path: str = Field(examples=["clauses.termination_for_cause.cure_period_days"])
    label: str
    value: Any = Field(description="The value accepted, as the term sheet holds it")
    how: Literal["read", "edited", "given", "standard"] = Field(
        description="read: read from the text and accepted; edited: read from the text and "
        "changed (read_value is what the text said); given: typed by hand; standard: the "
        "standard term sheet's value, chosen or kept"
    )
    read_value: Any = Field(description="What the text said, for an edited value")
    note: str | None = Field(
        description="Why the text did not give it, or why its reading was unsure"
    )
    part: str | None = Field(description='Where it stands: "§10", "Exhibit A.1"')
    sentence: str | None
    sentence_start: int | None = Field(description="Offsets into the document's text")
    sentence_end: int | None
    figure_start: int | None
    figure_end: int | None
    written: str | None = Field(examples=["fifteen (15) days"])
    accepted_by: str
    accepted_at: dt.datetime


class ProvenancePublic(BaseModel):
    contract_id: str
    document_name: str | None = Field(
        description="The agreement the term sheet was accepted from; null for a contract "
        "registered from a term sheet"
    )
    document_sha256: str | None
    standard_contract_id: str | None = Field(
        description="The contract whose term sheet was the standard; null: the reference MSA"
    )
    figures: list[FigureSource]


@router.get(
    "", response_model=ProvenancePublic, responses={404: {"description": "Unknown contract"}}
)
def get_provenance(_: Reader, contract_id: str, session: SessionDep) -> ProvenancePublic:
    """Each value of the contract's term sheet with how it was accepted (read from the
    agreement's text, edited, given by hand or the standard's), the section and sentence
    it came from, who accepted it and when. Empty for a contract registered from a term
    sheet."""
    if session.get(Contract, contract_id) is None:
        raise HTTPException(404, f"contract {contract_id!r} not found")
    rows = provenance_of(session, contract_id)
    first = rows[0] if rows else None
    return ProvenancePublic(
        contract_id=contract_id,
        document_name=first.document_name if first else None,
        document_sha256=first.document_sha256 if first else None,
        standard_contract_id=first.standard_contract_id if first else None,
        figures=[FigureSource.model_validate(r) for r in rows],
    )
