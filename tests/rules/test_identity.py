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
    # Term expiry names none: its one case a contract is told apart by its contract.
    assert case_identity("term_expiry", 4, {"effective_date": "2026-01-01"}, NY) is None
    assert case_identity("no_such_clause", 1, {}, NY) is None


def test_every_clause_with_more_than_one_case_a_contract_names_what_tells_them_apart() -> None:
    claim = {
        "claim_reference": "CLM-7",
        "claimant": "Third Party Telecom Ltd",
        "claim_received_at": "2026-12-01T15:00:00Z",
    }
    assert case_identity("indemnity_claim", 4, claim, NY) == (
        "CLM-7 · Third Party Telecom Ltd · Tue 1 Dec 2026 10:00"
    )
    # An older version borrows the newest's declaration.
    del claim["claim_reference"]
    assert case_identity("indemnity_claim", 3, claim, NY) == (
        "Third Party Telecom Ltd · Tue 1 Dec 2026 10:00"
    )
    transfer = {"destination": "Frankfurt, Germany", "requested_at": "2026-12-01T15:00:00Z"}
    assert case_identity("data_transfer", 4, transfer, NY) == (
        "Frankfurt, Germany · Tue 1 Dec 2026 10:00"
    )
    audit = {"auditor": "Audit & Co", "requested_at": "2026-12-01T15:00:00Z"}
    assert case_identity("sla_audit", 3, audit, NY) == "Audit & Co · Tue 1 Dec 2026 10:00"
    breach = {"discovered_at": "2026-12-01T15:00:00Z", "description": "laptop stolen"}
    assert case_identity("security_breach", 4, breach, NY) == "Tue 1 Dec 2026 10:00 · laptop stolen"
    aup = {
        "aup_provision": "C.2",
        "violation_notice_received_at": "2026-12-01T15:00:00Z",
        "violation_description": "bulk messages",
    }
    assert case_identity("acceptable_use_violation", 4, aup, NY) == (
        "C.2 · Tue 1 Dec 2026 10:00 · bulk messages"
    )


def test_the_checker_refuses_an_identity_that_is_not_a_start_fact(tmp_path: Path) -> None:
    text = RULEBOOK.replace("states:\n", "identified_by: [amount, amout]\nstates:\n", 1)
    with pytest.raises(RulebookError, match="identified_by names 'amout', which is not a start"):
        load_demo(tmp_path, "checks_demo", text)
