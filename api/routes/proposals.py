"""``POST /api/contracts/proposals``: a term sheet proposed from an agreement's own text
(issue 16, part 1), each figure with the sentence it came from; nothing is stored.
``POST /api/contracts/proposals/document`` does the same for an uploaded file: plain
text, Word (.docx) or PDF."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from api.access import Manager
from api.deps import SessionDep
from contracts.text.documents import KINDS, DocumentError, text_of
from rules.proposal import Found, deviations, read_agreement
from rules.reference import reference_term_sheet
from store.models import Contract

router = APIRouter(prefix="/api/contracts/proposals", tags=["contracts"])

#: An agreement of forty pages is about 150,000 characters.
MAX_TEXT = 500_000

#: What a proposal does not read from an agreement's text, to be given by a person.
NOT_READ = [
    "business hours (Exhibit A.2 names them but does not say when they are)",
    "which party you are, and the contract's owner on your side",
]

_TOO_LARGE: dict[int | str, dict[str, Any]] = {
    413: {
        "description": "The body is larger than MAX_DOCUMENT_BYTES (20 MB unless set): "
        "send the agreement as plain text without markup, or raise the limit"
    }
}


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
    why: str = Field(examples=['left blank in the text: "$__________" (Exhibit B.1)'])


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
    figures: list[FigurePublic] = Field(
        description="Every figure the text states, each at its term sheet's path: the "
        "parties and their notice addresses, the effective date, the fees and their "
        "currency, the governing law, the time zone, and each clause's figures, section "
        "and exhibit"
    )
    deviations: list[DeviationPublic] = Field(
        description="Figures that depart from the standard term sheet, governing law included"
    )
    missing: list[MissingPublic] = Field(
        description="Figures the text does not state, or leaves blank: to be given by a "
        "person, never defaulted"
    )
    governing_law: FigurePublic | None
    not_read: list[str] = Field(
        description="What the proposal does not read from text yet, to be given by a person"
    )
    text: str | None = Field(
        default=None,
        description="The text read from an uploaded document, which the offsets count in; "
        "null when you sent the text yourself",
    )


def _figure(f: Found) -> FigurePublic:
    return FigurePublic(**vars(f))


def _refused(field: str, msg: str, kind: str, given: Any) -> RequestValidationError:
    return RequestValidationError(
        [{"type": kind, "loc": ("body", field), "msg": msg, "input": given}]
    )


def _standard(session: Session, standard: str | None) -> dict[str, Any]:
    if standard is None:
        return reference_term_sheet().model_dump(mode="json")
    contract = session.get(Contract, standard)
    if contract is None:
        raise _refused(
            "standard", "is not a registered contract's id", "unknown_contract", standard
        )
    return dict(contract.terms)


def _proposal(text: str, standard: dict[str, Any]) -> ProposalPublic:
    proposal = read_agreement(text)
    law = next((f for f in proposal.figures if f.path == "governing_law"), None)
    return ProposalPublic(
        figures=[_figure(f) for f in proposal.figures],
        deviations=[DeviationPublic(**vars(d)) for d in deviations(proposal.figures, standard)],
        missing=[MissingPublic(**vars(m)) for m in proposal.missing],
        governing_law=_figure(law) if law else None,
        not_read=NOT_READ,
    )


@router.post("", response_model=ProposalPublic, responses=_TOO_LARGE)
def propose_term_sheet(_: Manager, body: ProposalRequest, session: SessionDep) -> ProposalPublic:
    """Reads the agreement's parties and notice addresses, effective date, fees, governing
    law, time zone, and each clause's periods, percentages, sections and exhibits, each
    with its section and sentence (character offsets into ``text``), and compares them
    with your standard term sheet."""
    return _proposal(body.text, _standard(session, body.standard))


@router.post(
    "/document",
    response_model=ProposalPublic,
    responses={
        400: {
            "description": "The body is not well-formed multipart/form-data (a form with "
            "the file in its field `file`)"
        },
        413: {
            "description": "The file is larger than MAX_DOCUMENT_BYTES (20 MB unless set): "
            "send the agreement's text (to POST /api/contracts/proposals), or raise the limit"
        },
        422: {
            "description": f"The file is not {KINDS} that can be read (the error names the "
            "field `file` and says why), or `standard` is not a registered contract"
        },
    },
)
def propose_term_sheet_from_a_document(
    _: Manager,
    session: SessionDep,
    file: Annotated[UploadFile, File(description=f"The agreement: {KINDS}")],
    standard: Annotated[
        str | None,
        Form(description="The registered contract whose term sheet is your standard"),
    ] = None,
) -> ProposalPublic:
    """The same proposal from an uploaded agreement. Its offsets count in the text read
    from the file, which the answer returns as ``text``."""
    name = file.filename or ""
    try:
        text = text_of(name, file.file.read())
    except DocumentError as exc:
        raise _refused("file", str(exc), "unreadable_document", name) from None
    if len(text) > MAX_TEXT:
        raise _refused(
            "file", f"the agreement's text is longer than {MAX_TEXT} characters", "too_long", name
        )
    result = _proposal(text, _standard(session, standard))
    result.text = text
    return result
