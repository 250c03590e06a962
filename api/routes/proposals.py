"""``POST /api/contracts/proposals``: a term sheet proposed from an agreement's own text
(issue 16, part 1), each figure with the sentence it came from; nothing is stored."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field

from api.access import Manager
from api.deps import SessionDep
from rules.proposal import Found, deviations, governing_law, propose
from rules.reference import reference_term_sheet
from store.models import Contract

router = APIRouter(prefix="/api/contracts/proposals", tags=["contracts"])

#: An agreement of forty pages is about 150,000 characters.
MAX_TEXT = 500_000


class ProposalRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=MAX_TEXT, description="The agreement, as plain text")
    standard: str | None = Field(
        default=None,
        description="The registered contract whose term sheet is your standard (default: "
        "the reference MSA's)",
        examples=["ctr_reference_msa"],
    )


class FigurePublic(BaseModel):
    """A figure the text states, with where: its section and its exact sentence."""

    path: str = Field(examples=["clauses.termination_for_convenience.notice_period_days"])
    label: str
    value: Any
    part: str | None = Field(description='Where it stands: "§10", "Exhibit A.1"')
    written: str = Field(examples=["ninety (90) days"])
    start: int = Field(description="Offset of the figure's words in the text")
    end: int
    sentence: str
    sentence_start: int
    sentence_end: int
    unsure: str | None = Field(description="Why the reading may be wrong; null when sure")


class MissingPublic(BaseModel):
    path: str
    label: str
    why: str


class DeviationPublic(BaseModel):
    """A figure that departs from the standard, as a person reviews it."""

    path: str
    label: str
    value: Any
    standard: Any
    part: str | None
    text: str = Field(
        examples=["Days the party in breach has to cure it: 15 (your standard: 30), §10"]
    )


class ProposalPublic(BaseModel):
    figures: list[FigurePublic]
    deviations: list[DeviationPublic] = Field(
        description="Figures that depart from the standard term sheet, governing law included"
    )
    missing: list[MissingPublic] = Field(
        description="Figures the rulebooks read that the text does not state: to be given "
        "by a person, never defaulted"
    )
    governing_law: FigurePublic | None
    not_read: list[str] = Field(
        description="What the proposal does not read from text yet, to be given by a person"
    )


def _figure(f: Found) -> FigurePublic:
    return FigurePublic(**vars(f))


@router.post(
    "",
    response_model=ProposalPublic,
    responses={
        413: {
            "description": "The body is larger than MAX_REQUEST_BYTES (an agreement's text "
            "is long): send it as plain text without markup, or raise the limit"
        }
    },
)
def propose_term_sheet(_: Manager, body: ProposalRequest, session: SessionDep) -> ProposalPublic:
    """Reads the agreement's periods and percentages, its surviving sections and its
    governing law, each with its section and sentence (character offsets into ``text``),
    and compares them with your standard term sheet."""
    if body.standard is None:
        standard = reference_term_sheet().model_dump(mode="json")
    else:
        contract = session.get(Contract, body.standard)
        if contract is None:
            raise RequestValidationError(
                [
                    {
                        "type": "unknown_contract",
                        "loc": ("body", "standard"),
                        "msg": "is not a registered contract's id",
                        "input": body.standard,
                    }
                ]
            )
        standard = dict(contract.terms)
    proposal = propose(body.text)
    law = governing_law(body.text)
    found = proposal.figures + ([law] if law else [])
    return ProposalPublic(
        figures=[_figure(f) for f in proposal.figures],
        deviations=[DeviationPublic(**vars(d)) for d in deviations(found, standard)],
        missing=[MissingPublic(**vars(m)) for m in proposal.missing],
        governing_law=_figure(law) if law else None,
        not_read=[
            "parties and their notice addresses",
            "effective date",
            "fees (Exhibit B)",
            "time zone",
        ],
    )
