"""Registers the reference MSA on first start."""

from __future__ import annotations

from importlib import resources

import yaml
from sqlmodel import Session

from contracts.terms import TermSheet
from store.contracts import create_contract
from store.models import Contract

REFERENCE_CONTRACT_ID = "ctr_reference_msa"


def reference_term_sheet() -> TermSheet:
    """The reference MSA's term sheet shipped in ``contracts/term_sheets``."""
    text = resources.files("contracts").joinpath("term_sheets/reference_msa.yaml").read_text()
    return TermSheet.model_validate(yaml.safe_load(text))


def ensure_reference_contract(session: Session) -> tuple[Contract, bool]:
    """Registers the reference MSA unless it is there already; returns it and whether it is new."""
    existing = session.get(Contract, REFERENCE_CONTRACT_ID)
    if existing is not None:
        return existing, False
    contract = create_contract(
        session, reference_term_sheet(), actor="clauseflow dev", contract_id=REFERENCE_CONTRACT_ID
    )
    session.commit()
    return contract, True
