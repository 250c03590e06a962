"""``POST /api/contracts/proposals``: a term sheet proposed from an agreement's own text
(issue 16, part 1), each figure with the sentence it came from; nothing is stored."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from api.access import Manager
from rules.proposal import Found, governing_law, propose

router = APIRouter(prefix="/api/contracts/proposals", tags=["contracts"])

#: An agreement of forty pages is about 150,000 characters.
MAX_TEXT = 500_000


class ProposalRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=MAX_TEXT, description="The agreement, as plain text")


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


class ProposalPublic(BaseModel):
    figures: list[FigurePublic]
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


@router.post("", response_model=ProposalPublic)
def propose_term_sheet(_: Manager, body: ProposalRequest) -> ProposalPublic:
    """Reads the agreement's periods and percentages, its surviving sections and its
    governing law, each with its section and sentence (character offsets into ``text``)."""
    proposal = propose(body.text)
    law = governing_law(body.text)
    return ProposalPublic(
        figures=[_figure(f) for f in proposal.figures],
        missing=[MissingPublic(**vars(m)) for m in proposal.missing],
        governing_law=_figure(law) if law else None,
        not_read=[
            "parties and their notice addresses",
            "effective date",
            "fees (Exhibit B)",
            "time zone",
        ],
    )
