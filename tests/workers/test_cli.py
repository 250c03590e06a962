"""The `clauseflow` command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workers.cli import main


def test_what_if_prints_the_effective_date_and_how_it_was_computed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(
        [
            "what-if",
            "termination_for_convenience",
            "notice_received_at=2026-12-01T10:00",
            "given_by=customer",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "Termination takes effect: Mon 1 Mar 2027 00:00 New York time" in out
    assert "day 90 is Mon 1 Mar 2027" in out
    # We gave notice: ours to send, their acknowledgement to expect (never sent by us).
    assert "We send (as the customer):\n  - the notice of termination for convenience" in out
    assert "We expect from the other party (never sent by us):" in out
    assert "the acknowledgement of the notice of termination (the provider's), due by" in out


def test_what_if_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    main(
        [
            "what-if",
            "termination_for_convenience",
            "notice_received_at=2026-12-01T10:00",
            "given_by=customer",
            "--json",
        ]
    )
    body = json.loads(capsys.readouterr().out)
    assert {d["name"]: d["last_day"] for d in body["deadlines"]}["effective_date"] == "2027-03-01"


def test_what_if_names_the_bad_fact(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["what-if", "termination_for_convenience", "given_by=landlord"])
    err = capsys.readouterr().err
    assert code == 2
    assert "facts.given_by" in err and "facts.notice_received_at: is required" in err


@pytest.mark.parametrize("clause", ["material_breach", "scheduled_maintenance", "invoice_payment"])
def test_what_if_starts_from_the_clauses_example_and_takes_overrides(
    capsys: pytest.CaptureFixture[str], clause: str
) -> None:
    # The example is the clause's scenarios.yaml start facts, dated from today.
    assert main(["what-if", clause, "--example", "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["clause"] == clause and body["deadlines"]


def test_what_if_example_facts_can_be_overridden(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["what-if", "termination_for_convenience", "given_by=landlord", "--example"])
    assert code == 2
    assert "facts.given_by" in capsys.readouterr().err


def test_what_if_says_a_cure_period_ends_at_the_end_of_its_last_day(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(
        [
            "what-if",
            "material_breach",
            "breach_notice_received_at=2026-12-01T10:00",
            "given_by=customer",
            "breach_description=reports not delivered",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    # Received 1 Dec: 30 days from the day after run to the end of Thu 31 Dec. A fixed
    # day is safe on any later one: what-if counts from the facts, not from today.
    assert "Cure period ends: end of Thu 31 Dec 2026, New York time" in out
    assert "due by end of Thu 31 Dec 2026, New York time" in out


def test_propose_prints_each_figure_with_its_sentence_and_what_is_missing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from tests.conftest import shared_path

    code = main(["propose", str(shared_path("MSA.txt"))])
    out = capsys.readouterr().out
    assert code == 0, out
    assert (
        'clauses.termination_for_convenience.notice_period_days = 90  (§10: "ninety (90) days")'
        in out
    )
    assert "Governing law: State of New York (§14)" in out
    assert "Not stated in the text (give them yourself; nothing is defaulted):" in out
    assert "  - clauses.security_breach.notify_within_hours:" in out
    binary = tmp_path / "agreement.pdf"
    binary.write_bytes(b"\xff\xfe\x00not text")
    assert main(["propose", str(binary)]) == 2


def test_propose_reads_a_word_document_or_a_pdf_and_shows_every_figure(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from tests.conftest import shared_path
    from tests.documents import docx_of, pdf_of

    text = (
        shared_path("MSA.txt")
        .read_text()
        .replace("[Name of CPaaS/IT Vendor]", "Beta Communications LLC")
        .replace("a monthly fee of $__________", "a monthly fee of $25,000.00")
    )
    for name, data in (("msa.docx", docx_of(text)), ("msa.pdf", pdf_of(text))):
        (tmp_path / name).write_bytes(data)
        assert main(["propose", str(tmp_path / name)]) == 0
        out = capsys.readouterr().out
        assert 'provider.name = Beta Communications LLC  (head of the agreement: "Beta' in out
        assert 'fees.monthly_fee = 25000.00  (Exhibit B.1: "$25,000.00")' in out
        assert 'clauses.payment.exhibit = B.4  (Exhibit B.4: "4. Payment Terms")' in out
        assert "  - customer.name: The Customer's name (left blank in the text:" in out
        assert "  - time_zone: The time zone the agreement's times are in (no sentence" in out
    (tmp_path / "msa.odt").write_bytes(b"PK")
    assert main(["propose", str(tmp_path / "msa.odt")]) == 2
    assert "send the agreement as plain text (.txt), Word (.docx) or PDF" in capsys.readouterr().err
