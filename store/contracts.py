"""Registering and reading contracts."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlmodel import Session

from contracts.terms import TermSheet
from store.models import AuditEntry, Contract


def new_contract_id() -> str:
    return "ctr_" + uuid.uuid4().hex[:16]


def create_contract(
    session: Session, terms: TermSheet, *, actor: str, contract_id: str | None = None
) -> Contract:
    """Stores a contract from its term sheet and records who registered it."""
    now = dt.datetime.now(dt.UTC)
    contract = Contract(
        id=contract_id or new_contract_id(),
        title=terms.title,
        reference=terms.reference,
        customer_name=terms.customer.name,
        provider_name=terms.provider.name,
        time_zone=terms.time_zone,
        effective_date=terms.effective_date,
        terms=terms.model_dump(mode="json"),
        created_at=now,
    )
    session.add(contract)
    session.add(
        AuditEntry(
            at=now,
            actor=actor,
            action="contract_registered",
            contract_id=contract.id,
            after={"title": terms.title, "reference": terms.reference},
        )
    )
    session.flush()
    return contract


def time_zone_of(session: Session, contract_id: str) -> str:
    """The contract's time zone, in which its deadlines are counted and shown."""
    contract = session.get(Contract, contract_id)
    return contract.time_zone if contract else "UTC"


def contract_terms(contract: Contract) -> TermSheet:
    """The contract's term sheet as a model."""
    return TermSheet.model_validate(contract.terms)


def party_names(url: str | None = None) -> set[str]:
    """Every stored contract's party names, for the logs to redact (runtime.logging).

    Best effort: a store that is not reachable (or not migrated) yet gives none.
    """
    from sqlmodel import select

    from store.db import get_engine

    try:
        with Session(get_engine(url)) as session:
            rows = session.exec(select(Contract.customer_name, Contract.provider_name)).all()
    except Exception:
        return set()
    return {n for row in rows for n in row if n}
