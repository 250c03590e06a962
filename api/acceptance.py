"""Registering a contract from an agreement's text (issue 16, part 2): the agreement kept
for its review, the review read from it, and its acceptance, which registers the contract
as ``POST /api/contracts`` does and keeps, in the same transaction, where each value of
its term sheet came from and who accepted it.

The figures are read again from the kept text at every step (``read_agreement`` is pure
and quick): nothing a browser sends back is taken for what the text says.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from sqlmodel import Session, col, select

from api.access import Principal
from api.registration import register
from api.schemas import ContractRegistered
from contracts.calendar import describe_day
from rules.acceptance import Decision, Entry, Item, accept, review_items, shown
from rules.proposal import read_agreement
from rules.reference import reference_term_sheet
from runtime.settings import Settings
from store.agreements import (
    add_provenance,
    claim_draft,
    create_draft,
    forget_unaccepted_drafts,
)
from store.models import AgreementDraft, AuditEntry, Contract, FigureProvenance

#: An agreement of forty pages is about 150,000 characters.
MAX_TEXT = 500_000
#: The standards the upload form offers: the reference MSA and the newest contracts.
STANDARDS_LISTED = 200
REFERENCE_MSA = "the reference MSA"


@dataclass(frozen=True)
class Standard:
    """The term sheet a proposal is compared with and prefilled from."""

    contract_id: str | None  # None: the reference MSA
    name: str
    terms: dict[str, Any]


@dataclass
class Review:
    draft: AgreementDraft
    standard: Standard
    items: list[Item]


def standard_of(session: Session, contract_id: str | None) -> Standard | None:
    """The reference MSA's term sheet (``contract_id`` None) or a registered contract's;
    None for an id no contract has."""
    if contract_id is None:
        return Standard(None, REFERENCE_MSA, reference_term_sheet().model_dump(mode="json"))
    contract = session.get(Contract, contract_id)
    if contract is None:
        return None
    return Standard(contract.id, f"{contract.title} ({contract.id})", dict(contract.terms))


def standards(session: Session) -> list[tuple[str, str]]:
    """What the upload form offers as the standard: (contract id, name), the reference
    MSA first (its id empty)."""
    rows = session.exec(
        select(Contract.id, Contract.title)
        .order_by(col(Contract.created_at).desc())
        .limit(STANDARDS_LISTED)
    ).all()
    return [("", f"The reference MSA ({REFERENCE_MSA.removeprefix('the ')})")] + [
        (cid, f"{title} ({cid})") for cid, title in rows
    ]


def keep_draft(
    session: Session,
    name: str,
    document: bytes,
    text: str,
    standard_contract_id: str | None,
    actor: str,
    keep_days: int,
) -> str:
    """Keeps the uploaded agreement for its review; its draft's id. Removes the drafts no
    one accepted within ``keep_days`` (AGREEMENT_DRAFT_DAYS), and their text."""
    forget_unaccepted_drafts(session, dt.datetime.now(dt.UTC) - dt.timedelta(days=keep_days))
    draft = create_draft(
        session,
        document_name=name,
        document=document,
        text=text,
        standard_contract_id=standard_contract_id,
        actor=actor,
    )
    session.commit()
    return draft.id


def review_of(session: Session, draft_id: str, keep_days: int) -> Review | None:
    """The draft's review: every value it asks for, read from its kept text; None for a
    draft that does not exist (or whose standard no longer does). A draft no one accepted
    within ``keep_days`` is removed here, if no upload removed it before."""
    draft = session.get(AgreementDraft, draft_id)
    if draft is None:
        return None
    kept_since = dt.datetime.now(dt.UTC) - dt.timedelta(days=keep_days)
    if draft.contract_id is None and draft.created_at < kept_since:
        forget_unaccepted_drafts(session, kept_since)
        session.commit()
        return None
    standard = standard_of(session, draft.standard_contract_id)
    if standard is None:
        return None
    return Review(draft, standard, review_items(read_agreement(draft.text), standard.terms))


# ---------------------------------------------------------------------------- accept


def _row(
    d: Decision, contract_id: str, draft: AgreementDraft, actor: str, at: dt.datetime
) -> FigureProvenance:
    f = d.item.found
    note = d.item.why if d.item.origin == "missing" else (f.unsure if f else None)
    return FigureProvenance(
        contract_id=contract_id,
        path=d.item.path,
        label=d.item.label[:300],
        value=d.value,
        how=d.how,
        read_value=f.value if f is not None and d.how == "edited" else None,
        note=note,
        part=f.part if f else None,
        sentence=f.sentence if f else None,
        sentence_start=f.sentence_start if f else None,
        sentence_end=f.sentence_end if f else None,
        figure_start=f.start if f else None,
        figure_end=f.end if f else None,
        written=f.written[:300] if f else None,
        document_name=draft.document_name,
        document_sha256=draft.document_sha256,
        draft_id=draft.id,
        standard_contract_id=draft.standard_contract_id,
        accepted_by=actor,
        accepted_at=at,
    )


def _audited(review: Review, decisions: list[Decision]) -> dict[str, Any]:
    def paths(how: str) -> list[str]:
        return [d.item.path for d in decisions if d.how == how]

    return {
        "document": review.draft.document_name,
        "document_sha256": review.draft.document_sha256,
        "draft": review.draft.id,
        "standard": review.standard.contract_id or REFERENCE_MSA,
        "read": len(paths("read")),
        "edited": {
            d.item.path: {"text": d.item.found.value, "accepted": d.value}
            for d in decisions
            if d.how == "edited" and d.item.found is not None
        },
        "given": paths("given"),
        "standard_values": len(paths("standard")),
    }


async def accept_review(
    principal: Principal,
    review: Review,
    entries: Mapping[str, Entry],
    request: Request,
    settings: Settings,
) -> ContractRegistered | list[tuple[str, str]]:
    """Registers the contract the person's entries make, with each value's provenance and
    the ``agreement_accepted`` audit entry in the contract's own transaction; or every
    field that is wrong (path, message), with nothing stored.

    Raises:
        store.agreements.DraftAlreadyAccepted: The draft registered a contract already;
            nothing more is stored.
    """
    outcome = accept(review.items, entries)
    if outcome.terms is None:
        return outcome.errors
    draft = review.draft

    def record(session: Session, contract: Contract) -> None:
        at = dt.datetime.now(dt.UTC)
        claim_draft(session, draft.id, contract.id, at)
        rows = (_row(d, contract.id, draft, principal.name, at) for d in outcome.decisions)
        add_provenance(session, rows)
        session.add(
            AuditEntry(
                at=at,
                actor=principal.name,
                action="agreement_accepted",
                contract_id=contract.id,
                reason=f"term sheet accepted from {draft.document_name}",
                after=_audited(review, outcome.decisions),
            )
        )

    return await register(principal, outcome.terms, request, settings, also=record)


# ------------------------------------------------------------------ showing a source


@dataclass(frozen=True)
class Excerpt:
    """A sentence around a figure: the words before it, its own, and after."""

    before: str
    words: str
    after: str


def excerpt(
    sentence: str | None,
    sentence_start: int | None,
    start: int | None,
    end: int | None,
    window: int | None = None,
) -> Excerpt | None:
    """The figure's words within its sentence (offsets into the agreement's text), cut to
    ``window`` characters either side; the whole sentence unmarked if the offsets are not
    inside it."""
    if not sentence:
        return None
    if sentence_start is None or start is None or end is None:
        return Excerpt(sentence, "", "")
    a, b = start - sentence_start, end - sentence_start
    if not 0 <= a <= b <= len(sentence):
        return Excerpt(sentence, "", "")
    before, words, after = sentence[:a], sentence[a:b], sentence[b:]
    if window is not None:
        # Cut at a word's edge: a quote never starts or ends inside a word.
        if len(before) > window:
            cut = before[-window:]
            before = "…" + (cut.split(" ", 1)[1] if " " in cut else cut)
        if len(after) > window:
            cut = after[:window]
            after = (cut.rsplit(" ", 1)[0] if " " in cut else cut) + "…"
    return Excerpt(before, words, after)


@dataclass(frozen=True)
class Source:
    """Where one value of a contract's term sheet came from, as the contract page says."""

    path: str
    label: str
    value: str
    how: str
    said: str
    part: str | None
    quote: Excerpt | None
    sentence: str | None
    note: str | None
    by: str
    at: dt.datetime
    day: str  # the day it was accepted, in the contract's time zone
    document: str
    digest: str


def _said(row: FigureProvenance) -> str:
    if row.how == "read":
        return "read from the text and accepted"
    if row.how == "edited":
        return f"edited: the text said {shown(row.read_value)}"
    if row.how == "standard":
        return "your standard's value" + (
            f" ({row.standard_contract_id})" if row.standard_contract_id else f" ({REFERENCE_MSA})"
        )
    return "given by hand"


def sources(rows: list[FigureProvenance], zone: str) -> dict[str, Source]:
    """The contract's provenance rows as the contract page shows them, by path; days in
    the contract's time ``zone``."""
    return {
        r.path: Source(
            r.path,
            r.label,
            shown(r.value),
            r.how,
            _said(r),
            r.part,
            excerpt(r.sentence, r.sentence_start, r.figure_start, r.figure_end, window=45),
            r.sentence,
            r.note,
            r.accepted_by,
            r.accepted_at,
            describe_day(r.accepted_at.astimezone(ZoneInfo(zone)).date()),
            r.document_name,
            r.document_sha256,
        )
        for r in rows
    }
