"""POST /api/contracts/proposals: a term sheet proposed from an agreement's text, each
figure with its sentence; POST /api/contracts/proposals/document: the same from an
uploaded plain-text, Word or PDF file; bad input is a 422 naming the field; nothing is
stored.

Every date here is written in an agreement's text and read by pure parsing: none is
compared with today, and the only bound a date is checked against is the fixed range
of contracts/limits.py (1970 to 2200), so no test here depends on the day it runs."""

from __future__ import annotations

import httpx
from sqlmodel import Session, func, select

from store.db import get_engine
from store.models import Contract
from tests.conftest import shared_path
from tests.documents import docx_of, pdf_of

URL = "/api/contracts/proposals"
DOCUMENT = "/api/contracts/proposals/document"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _contracts() -> int:
    with Session(get_engine()) as s:
        return s.exec(select(func.count()).select_from(Contract)).one()


async def test_the_reference_msa_is_proposed_with_each_figures_sentence(
    api: httpx.AsyncClient,
) -> None:
    before = _contracts()
    text = shared_path("MSA.txt").read_text()
    r = await api.post(URL, json={"text": text})
    assert r.status_code == 200, r.text
    body = r.json()
    notice = next(
        f
        for f in body["figures"]
        if f["path"] == "clauses.termination_for_convenience.notice_period_days"
    )
    assert (notice["value"], notice["part"], notice["written"]) == (90, "§10", "ninety (90) days")
    assert text[notice["sentence_start"] : notice["sentence_end"]] == notice["sentence"]
    assert {m["path"] for m in body["missing"]} >= {"clauses.security_breach.notify_within_hours"}
    assert body["governing_law"]["value"] == "State of New York"
    # Read now: the parties, the effective date, the fees and the time zone (blank or
    # not stated in the reference MSA, so missing) and each clause's section.
    why = {m["path"]: m["why"] for m in body["missing"]}
    assert why["customer.name"].startswith('left blank in the text: "[Name of Large')
    assert why["effective_date"].startswith("left blank in the text")
    assert why["fees.monthly_fee"] == 'left blank in the text: "$__________" (Exhibit B.1)'
    assert why["time_zone"].startswith("no sentence names a time zone")
    values = {f["path"]: f["value"] for f in body["figures"]}
    assert values["clauses.termination_for_convenience.section"] == "10"
    assert values["clauses.payment.exhibit"] == "B.4"
    assert values["currency"] == "USD"
    assert not {"effective date", "time zone"} & set(body["not_read"])
    assert body["text"] is None  # the offsets count in the text sent
    assert _contracts() == before  # a proposal registers nothing


async def test_an_empty_text_is_refused_naming_the_field(api: httpx.AsyncClient) -> None:
    r = await api.post(URL, json={"text": ""})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "text"
    r = await api.post(URL, json={"text": "x", "extra": 1})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "extra"


async def test_the_proposal_names_where_it_departs_from_your_standard(
    api: httpx.AsyncClient,
) -> None:
    text = (
        shared_path("MSA.txt")
        .read_text()
        .replace("for convenience upon ninety (90) days'", "for convenience upon sixty (60) days'")
    )
    body = (await api.post(URL, json={"text": text})).json()
    assert [d["text"] for d in body["deviations"]] == [
        "Days of prior written notice before a termination for convenience takes effect: 60 "
        "(your standard: 90), §10"
    ]
    # Your own standard: a registered contract's term sheet.
    same = await api.post(URL, json={"text": text, "standard": "ctr_reference_msa"})
    assert same.status_code == 200 and len(same.json()["deviations"]) == 1
    r = await api.post(URL, json={"text": text, "standard": "ctr_nobody"})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "standard"


def _filled() -> str:
    return (
        shared_path("MSA.txt")
        .read_text()
        .replace("[Name of Large U.S.-Based Enterprise]", "Acme Corp")
        .replace("**Effective Date:** __________", "**Effective Date:** January 4, 2027")
        .replace("a monthly fee of $__________", "a monthly fee of $30,000.00")
        .replace("for convenience upon ninety (90) days'", "for convenience upon sixty (60) days'")
        .replace("**10. Term and Termination.**", "**Ten. Term and Termination.**")
        .replace("**11. Dispute Resolution.**", "**10. Dispute Resolution.**")
        .replace("**Ten. Term and Termination.**", "**11. Term and Termination.**")
    )


async def test_a_variant_gives_its_own_parties_date_fees_and_sections(
    api: httpx.AsyncClient,
) -> None:
    text = _filled()
    r = await api.post(URL, json={"text": text})
    assert r.status_code == 200, r.text
    body = r.json()
    by_path = {f["path"]: f for f in body["figures"]}
    assert by_path["customer.name"]["value"] == "Acme Corp"
    assert by_path["effective_date"]["value"] == "2027-01-04"
    fee = by_path["fees.monthly_fee"]
    assert (fee["value"], fee["written"], fee["part"]) == ("30000.00", "$30,000.00", "Exhibit B.1")
    assert text[fee["start"] : fee["end"]] == fee["written"]
    assert by_path["clauses.termination_for_convenience.section"]["value"] == "11"
    # The parties and the day it takes effect are every agreement's own: no departure.
    assert [d["text"] for d in body["deviations"]] == [
        "The monthly fee: 30000.00 (your standard: 25000.00), Exhibit B.1",
        "The section that holds the termination for cause clause: 11 (your standard: 10), §11",
        "The section that holds the term clause: 11 (your standard: 10), §11",
        "Days of prior written notice before a termination for convenience takes effect: 60 "
        "(your standard: 90), §11",
        "The section that holds the termination for convenience clause: 11 (your standard: "
        "10), §11",
    ]
    assert "provider.name" in {m["path"] for m in body["missing"]}


async def test_an_uploaded_word_document_or_pdf_is_proposed_like_its_text(
    api: httpx.AsyncClient,
) -> None:
    text = _filled()
    by_text = (await api.post(URL, json={"text": text})).json()
    for name, data, kind in (
        ("msa.docx", docx_of(text), DOCX),
        ("msa.pdf", pdf_of(text), "application/pdf"),
        ("msa.txt", text.encode(), "text/plain"),
    ):
        r = await api.post(DOCUMENT, files={"file": (name, data, kind)})
        assert r.status_code == 200, (name, r.text)
        body = r.json()
        read = body["text"]
        assert {f["path"]: f["value"] for f in body["figures"]} == {
            f["path"]: f["value"] for f in by_text["figures"]
        }, name
        assert body["deviations"] == by_text["deviations"], name
        for f in body["figures"]:
            assert read[f["sentence_start"] : f["sentence_end"]] == f["sentence"], name
    # Your own standard, as a form field.
    r = await api.post(
        DOCUMENT,
        files={"file": ("msa.docx", docx_of(text), DOCX)},
        data={"standard": "ctr_reference_msa"},
    )
    assert r.status_code == 200 and len(r.json()["deviations"]) == 5


async def test_a_file_it_cannot_read_is_refused_naming_the_field(api: httpx.AsyncClient) -> None:
    before = _contracts()
    for name, data, why in (
        ("msa.pdf", b"%PDF-1.4 not really", "the file is not a readable PDF"),
        ("msa.docx", b"not a zip", "the file is not a readable Word document"),
        ("msa.rtf", b"{\\rtf1}", "msa.rtf: send the agreement as plain text (.txt)"),
        ("msa.txt", b"", "msa.txt: the file holds no text"),
    ):
        r = await api.post(DOCUMENT, files={"file": (name, data, "application/octet-stream")})
        assert r.status_code == 422, (name, r.text)
        (error,) = r.json()["detail"]
        assert error["field"] == "file" and error["msg"].startswith(why), (name, error)
    r = await api.post(DOCUMENT, data={"standard": "ctr_reference_msa"})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "file"
    r = await api.post(
        DOCUMENT, files={"file": ("msa.txt", b"1. Term.", "text/plain")}, data={"standard": "x"}
    )
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "standard"
    assert _contracts() == before
