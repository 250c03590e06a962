"""What tells a case apart in lists: the start facts its rulebook names, in words."""

from __future__ import annotations

from pathlib import Path

import pytest

from rules.identity import case_identity
from rules.rulebook import RulebookError
from tests.rules.helpers import load_demo
from tests.rules.test_fact_checks import RULEBOOK

NY = "America/New_York"


def test_an_invoice_reads_as_its_number_amount_and_receipt() -> None:
    facts = {
        "invoice_number": "INV-7",
        "invoice_amount": "25000.00",
        "invoice_received_at": "2026-12-01T15:00:00Z",
    }
    assert (
        case_identity("invoice_payment", 4, facts, NY) == "INV-7 · 25000.00 · Tue 1 Dec 2026 10:00"
    )
    # A fact the case does not have is left out; an older version borrows the newest's.
    del facts["invoice_number"]
    assert case_identity("invoice_payment", 3, facts, NY) == "25000.00 · Tue 1 Dec 2026 10:00"


def test_a_party_reads_as_its_role_and_a_clause_that_names_none_shows_none() -> None:
    termination = {"given_by": "provider", "notice_received_at": "2026-12-01T15:00:00Z"}
    assert case_identity("termination_for_convenience", 1, termination, NY) == (
        "Provider · Tue 1 Dec 2026 10:00"
    )
    assert case_identity("indemnity_claim", 3, {"claimant": "X"}, NY) is None
    assert case_identity("no_such_clause", 1, {}, NY) is None


def test_the_checker_refuses_an_identity_that_is_not_a_start_fact(tmp_path: Path) -> None:
    text = RULEBOOK.replace("states:\n", "identified_by: [amount, amout]\nstates:\n", 1)
    with pytest.raises(RulebookError, match="identified_by names 'amout', which is not a start"):
        load_demo(tmp_path, "checks_demo", text)
