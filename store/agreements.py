"""Agreements under review (their text, kept server-side) and, once one is accepted, where
each value of its contract's term sheet came from."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Iterable

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from store.models import AgreementDraft, FigureProvenance


class DraftAlreadyAccepted(Exception):
    """The draft registered a contract already (a form sent twice, or by two people)."""

    def __init__(self, contract_id: str | None) -> None:
        super().__init__(f"the agreement was accepted already, as contract {contract_id}")
        self.contract_id = contract_id


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def create_draft(
    session: Session,
    *,
    document_name: str,
    document: bytes,
    text: str,
    standard_contract_id: str | None,
    actor: str,
) -> AgreementDraft:
    """Keeps an uploaded agreement's text for its review."""
    draft = AgreementDraft(
        id="agr_" + uuid.uuid4().hex[:16],
        document_name=document_name[:255],
        document_sha256=digest(document),
        text=text,
        standard_contract_id=standard_contract_id,
        created_by=actor,
        created_at=dt.datetime.now(dt.UTC),
    )
    session.add(draft)
    session.flush()
    return draft


def forget_unaccepted_drafts(session: Session, before: dt.datetime) -> int:
    """Removes the drafts uploaded before ``before`` that no one accepted, with their
    text; how many. An accepted draft stays: its contract's provenance names it."""
    gone = session.execute(
        delete(AgreementDraft).where(
            col(AgreementDraft.contract_id).is_(None), col(AgreementDraft.created_at) < before
        )
    )
    return int(gone.rowcount)  # type: ignore[attr-defined]


def claim_draft(session: Session, draft_id: str, contract_id: str, at: dt.datetime) -> None:
    """Marks the draft as registering ``contract_id``, in that contract's transaction.

    A conditional update, so that of two acceptances of one draft (a resent form, two
    people at once) only one registers a contract: the other's transaction waits for the
    first's row lock, then finds the draft taken.

    Raises:
        DraftAlreadyAccepted: Another acceptance took it first.
    """
    claimed = session.execute(
        update(AgreementDraft)
        .where(col(AgreementDraft.id) == draft_id, col(AgreementDraft.contract_id).is_(None))
        .values(contract_id=contract_id, accepted_at=at)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        taken = session.exec(
            select(AgreementDraft.contract_id).where(AgreementDraft.id == draft_id)
        ).first()
        raise DraftAlreadyAccepted(taken)


def add_provenance(session: Session, rows: Iterable[FigureProvenance]) -> None:
    session.add_all(list(rows))
    session.flush()


def provenance_of(session: Session, contract_id: str) -> list[FigureProvenance]:
    """Where each value of the contract's term sheet came from (none: it was registered
    from a term sheet, not from an agreement's text)."""
    query = (
        select(FigureProvenance)
        .where(FigureProvenance.contract_id == contract_id)
        .order_by(col(FigureProvenance.id))
    )
    return list(session.exec(query))
