"""An uploaded agreement's text (issue 16, part 1): plain text, Word and PDF files give
the text the proposal reads, and the reference MSA sent as DOCX or PDF gives the same
figures as its plain text; a file that cannot be read is refused, saying why."""

from __future__ import annotations

import io

import docx
import pypdf
import pytest

from contracts.text.documents import DocumentError, text_of
from contracts.text.outline import outline
from rules.proposal import read_agreement
from tests.conftest import shared_path
from tests.documents import docx_of, pdf_of


def _msa() -> str:
    return shared_path("MSA.txt").read_text()


def _figures(text: str) -> dict[str, object]:
    return {f.path: f.value for f in read_agreement(text).figures}


def test_plain_text_is_read_as_it_is() -> None:
    assert text_of("msa.txt", "\ufeff1. Term. Two years.\n".encode()) == "1. Term. Two years.\n"
    assert text_of("MSA", b"1. Term.\n") == "1. Term.\n"


def test_a_word_document_gives_each_paragraph_on_its_own_lines() -> None:
    text = text_of("MSA.DOCX", docx_of(_msa()))
    assert text.startswith("MASTER SERVICES AGREEMENT\n\nBetween:\n\nCustomer: [Name of")
    parts = outline(text)
    assert [p.reference for p in parts if p.kind == "section"] == [f"§{n}" for n in range(1, 15)]
    assert [p.reference for p in parts if p.kind == "exhibit"] == [f"Exhibit {x}" for x in "ABCD"]
    # Every figure of the plain text, each with its sentence in the document's text.
    assert _figures(text) == _figures(_msa())
    for f in read_agreement(text).figures:
        assert text[f.start : f.end] == f.written
        assert text[f.sentence_start : f.sentence_end] == f.sentence


def test_a_word_documents_own_numbering_is_written_out() -> None:
    # The sections numbered by Word's numbered list, not typed: their numbers are not in
    # the paragraphs' text, and without them the outline would find no section.
    data = docx_of(_msa(), numbered_by_word=True)
    (term,) = [
        p for p in docx.Document(io.BytesIO(data)).paragraphs if "Term and Termination" in p.text
    ]
    assert term.text.startswith("Term and Termination. The term") and term.style.name == (
        "List Number"
    )
    text = text_of("msa.docx", data)
    assert "\n\n10. Term and Termination. The term of this Agreement" in text
    assert [p.reference for p in outline(text) if p.kind == "section"] == [
        f"§{n}" for n in range(1, 15)
    ]
    assert _figures(text) == _figures(_msa())


def test_a_word_documents_tables_are_read_row_by_row() -> None:
    document = docx.Document()
    document.add_paragraph("EXHIBIT B: FEE SCHEDULE")
    table = document.add_table(rows=2, cols=2)
    for row, (what, amount) in zip(
        table.rows, [("Monthly fee", "$25,000.00"), ("Usage", "$0.05 per gigabyte")], strict=True
    ):
        row.cells[0].text, row.cells[1].text = what, amount
    out = io.BytesIO()
    document.save(out)
    text = text_of("fees.docx", out.getvalue())
    assert "Monthly fee; $25,000.00\n\nUsage; $0.05 per gigabyte" in text
    assert _figures(text)["fees.monthly_fee"] == "25000.00"


def test_a_pdf_gives_the_text_of_its_pages() -> None:
    data = pdf_of(_msa())
    assert len(pypdf.PdfReader(io.BytesIO(data)).pages) > 1
    text = text_of("msa.pdf", data)
    assert "10. Term and Termination." in text
    assert _figures(text) == _figures(_msa())


@pytest.mark.parametrize(
    ("name", "data", "why"),
    [
        ("msa.rtf", b"{\\rtf1 hello}", "msa.rtf: send the agreement as plain text (.txt), Word"),
        ("msa.txt", b"", "msa.txt: the file holds no text"),
        ("msa.txt", b"\xff\xfe\x00", "the file holds binary data, not text"),
        ("msa.txt", b"caf\xe9", "the file is not UTF-8 text (byte 3)"),
        ("msa.docx", b"PK\x03\x04 not a zip", "the file is not a readable Word document"),
        ("msa.pdf", b"%PDF-1.4 broken", "the file is not a readable PDF"),
        ("blank.pdf", pdf_of(""), "blank.pdf: the file holds no text (a scanned PDF"),
    ],
)
def test_a_file_it_cannot_read_is_refused_saying_why(name: str, data: bytes, why: str) -> None:
    with pytest.raises(DocumentError) as refused:
        text_of(name, data)
    assert str(refused.value).startswith(why)


def test_a_pdf_behind_a_password_is_refused() -> None:
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(pdf_of("1. Term."))))
    writer.encrypt("secret")
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(DocumentError, match="protected by a password"):
        text_of("msa.pdf", out.getvalue())
