"""The reference MSA's term sheet, shipped in ``contracts/term_sheets``, with every
figure the rulebooks declare filled in: the standard a proposal is compared with, and the
dev stack's contract."""

from __future__ import annotations

from importlib import resources

import yaml

from contracts.terms import TermSheet
from rules.rulebook import default_registry


def reference_term_sheet() -> TermSheet:
    """The reference MSA's term sheet (``contracts/term_sheets/reference_msa.yaml``)."""
    text = resources.files("contracts").joinpath("term_sheets/reference_msa.yaml").read_text()
    return default_registry().complete_terms(yaml.safe_load(text))
