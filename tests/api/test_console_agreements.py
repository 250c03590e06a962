"""A contract registered from the agreement's own text: the console's upload, its review
(each figure with its sentence, each departure from the standard, each missing figure to
be given), and its acceptance, which registers the contract and keeps who accepted what,
from which sentence, with it."""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import re
import uuid
from typing import Any

import httpx
from sqlmodel import Session, select

from runtime.settings import get_settings
from store.db import get_engine
from store.models import AgreementDraft, AuditEntry, Case, Contract, FigureProvenance
from tests.api.test_console import SignIn, csrf_of, sign_in, text_of  # noqa: F401
from tests.conftest import shared_path
from tests.dates import ny_today

NEW = "/console/agreements/new"
CURE = "clauses.termination_for_cause.cure_period_days"
DISPUTE = "clauses.payment.dispute_window_days"
PAYMENT = "clauses.payment.payment_days"
# The reference MSA's cure period, said as 15 days instead of 30; and its dispute window
# taken out, so that the text states none.
CURE_SAID = ("fails to cure such breach within thirty (30) days", "fifteen (15) days")
NO_DISPUTE_WINDOW = (
    "within ten (10) days of receipt of such invoice",
    "promptly upon receipt of such invoice",
)


def agreement() -> str:
    """The reference MSA with a cure period of 15 days and no dispute window."""
    text = shared_path("MSA.txt").read_text()
    for old, new in (
        (CURE_SAID[0], CURE_SAID[0].replace("thirty (30) days", CURE_SAID[1])),
        NO_DISPUTE_WINDOW,
    ):
        assert old in text, f"the reference MSA no longer says {old!r}"
        text = text.replace(old, new)
    return text


async def upload(
    client: httpx.AsyncClient,
    *,
    file: tuple[str, bytes] | None = None,
    pasted: str = "",
    standard: str = "",
) -> httpx.Response:
    """Sends the upload form as the browser does (multipart, with the CSRF token)."""
    page = await client.get(NEW)
    assert page.status_code == 200, page.text
    name, data = file or ("", b"")
    return await client.post(
        NEW,
        data={"csrf_token": csrf_of(page.text), "text": pasted, "standard": standard},
        files={"document": (name, data, "application/octet-stream")},
    )


async def reviewed(client: httpx.AsyncClient, text: str) -> tuple[str, httpx.Response]:
    """Uploads ``text`` as a file; the review's URL and page."""
    r = await upload(client, file=("acme-msa.txt", text.encode()))
    assert r.status_code == 303, text_of(r.text)
    url = r.headers["location"]
    assert re.fullmatch(r"/console/agreements/agr_[0-9a-f]+", url), url
    page = await client.get(url)
    assert page.status_code == 200, text_of(page.text)
    return url, page


def form_of(page: str) -> dict[str, str]:
    """The review form's values as the page holds them (inputs, chosen options, ticks)."""
    fields = {
        html.unescape(n): html.unescape(v)
        for n, v in re.findall(
            r'<input id="[^"]*" type="text" name="([^"]+)" value="([^"]*)"', page
        )
    }
    for name, options in re.findall(
        r'<select id="[^"]*" name="([^"]+)"[^>]*>(.*?)</select>', page, re.S
    ):
        chosen = re.search(r'<option value="([^"]*)" selected>', options)
        fields[html.unescape(name)] = html.unescape(chosen.group(1)) if chosen else ""
    for name in re.findall(
        r'<input id="[^"]*" type="checkbox" name="([^"]+)" value="yes" checked>', page
    ):
        fields[html.unescape(name)] = "yes"
    return fields


def missing_paths(page: str) -> list[str]:
    return re.findall(
        r'<tr id="missing-[^"]*">\s*<td>[^<]*<br><code class="muted small">([^<]+)</code>', page
    )


async def accept(
    client: httpx.AsyncClient, url: str, page: httpx.Response, changes: dict[str, str]
) -> httpx.Response:
    """Sends the review form as the page holds it, with ``changes`` (``value.<path>``,
    ``use_standard.<path>``; an empty string unticks a box)."""
    data: dict[str, Any] = {**form_of(page.text), **changes, "csrf_token": csrf_of(page.text)}
    data = {k: v for k, v in data.items() if not (k.startswith("use_standard.") and not v)}
    return await client.post(f"{url}/accept", data=data)


def a_year_ago() -> str:
    return (ny_today() - dt.timedelta(days=365)).isoformat()


def the_contracts_entries(reference: str) -> dict[str, str]:
    """What a person types for this agreement; every other missing figure ticked."""
    return {
        "value.title": "Acme Hosting Agreement",
        "value.reference": reference,
        "value.effective_date": a_year_ago(),
        "value.customer.name": "Acme Widgets Inc.",
        "value.customer.notice_email": "legal@acme.example.com",
        "value.provider.name": "Cloudy Provider LLC",
        "value.provider.notice_email": "notices@cloudy.example.com",
        "value.fees.monthly_fee": "12000.00",
        f"value.{DISPUTE}": "12",
        f"value.{CURE}": "20",
    }


def ticked_all_but(page: str, typed: dict[str, str]) -> dict[str, str]:
    return {f"use_standard.{p}": "yes" for p in missing_paths(page) if f"value.{p}" not in typed}


def _one(model: Any, **where: Any) -> list[Any]:
    with Session(get_engine()) as s:
        query = select(model)
        for k, v in where.items():
            query = query.where(getattr(model, k) == v)
        return list(s.exec(query))


# ------------------------------------------------------------------------- the review


async def test_the_review_shows_each_figure_with_its_sentence_and_departure(
    sign_in: SignIn,  # noqa: F811
) -> None:
    manager = await sign_in("contract_manager")
    before = len(_one(Contract))
    text = agreement()
    url, page = await reviewed(manager, text)

    # Kept server-side, with the document's digest: nothing registered yet.
    (draft,) = _one(AgreementDraft, id=url.rsplit("/", 1)[1])
    assert draft.text == text and draft.contract_id is None
    assert draft.document_sha256 == hashlib.sha256(text.encode()).hexdigest()
    assert len(_one(Contract)) == before

    # The departure, marked, with its section and its sentence, the figure's words marked.
    row = re.search(
        rf'<tr id="figure-{CURE.replace(".", "-")}" class="deviates">(.*?)</tr>', page.text, re.S
    )
    assert row, "the cure period is not marked as departing from the standard"
    shown = text_of(row.group(1))
    assert "your standard: 30" in shown and "§10" in shown
    assert "<mark>fifteen (15) days</mark>" in row.group(1)
    assert "fails to cure such breach within" in shown
    assert form_of(page.text)[f"value.{CURE}"] == "15"
    # A figure as the standard has it is read, not marked.
    assert f'<tr id="figure-{PAYMENT.replace(".", "-")}">' in page.text
    # The missing one is asked for, empty, with why, and the standard's value offered.
    assert DISPUTE in missing_paths(page.text)
    missing = re.search(
        rf'<tr id="missing-{DISPUTE.replace(".", "-")}">(.*?)</tr>', page.text, re.S
    )
    assert missing is not None
    assert form_of(page.text)[f"value.{DISPUTE}"] == ""
    assert "use my standard's value: 10" in text_of(missing.group(1))
    # What no agreement's text carries is prefilled from the standard, and says so.
    owner = re.search(r'<tr id="standard-owner-email">(.*?)</tr>', page.text, re.S)
    assert owner is not None and "from your standard" in owner.group(1)
    assert form_of(page.text)["value.owner.email"] == "contract.owner@customer.example.com"

    # A reload reads the kept text again: the same review.
    again = await manager.get(url)
    assert form_of(again.text) == form_of(page.text)


async def test_a_registered_contracts_term_sheet_can_be_the_standard(
    sign_in: SignIn,  # noqa: F811
) -> None:
    manager = await sign_in("contract_manager")
    r = await upload(manager, pasted=agreement(), standard="ctr_reference_msa")
    assert r.status_code == 303, text_of(r.text)
    page = await manager.get(r.headers["location"])
    assert "(ctr_reference_msa)" in text_of(page.text)
    (draft,) = _one(AgreementDraft, id=r.headers["location"].rsplit("/", 1)[1])
    assert (
        draft.document_name == "pasted text" and draft.standard_contract_id == "ctr_reference_msa"
    )


async def test_an_upload_that_cannot_be_read_is_refused_naming_the_field(
    sign_in: SignIn,  # noqa: F811
) -> None:
    manager = await sign_in("contract_manager")
    nothing = await upload(manager)
    assert nothing.status_code == 422
    assert "document: choose the agreement's file, or paste its text" in text_of(nothing.text)
    both = await upload(manager, file=("a.txt", b"text"), pasted="more text")
    assert both.status_code == 422 and "not both" in text_of(both.text)
    binary = await upload(manager, file=("a.txt", b"\x00\x01\x02"))
    assert binary.status_code == 422 and "document: " in text_of(binary.text)
    # An unknown standard is named, and the pasted text comes back as it was.
    unknown = await upload(manager, pasted="The Agreement & its terms", standard="ctr_nobody")
    assert unknown.status_code == 422
    assert "standard: is not a registered contract's id" in text_of(unknown.text)
    assert "The Agreement &amp; its terms</textarea>" in unknown.text
    assert _one(AgreementDraft) == []


# ---------------------------------------------------------------------- the acceptance


async def test_accepting_without_the_missing_figures_is_refused_naming_each(
    sign_in: SignIn,  # noqa: F811
) -> None:
    manager = await sign_in("contract_manager")
    url, page = await reviewed(manager, agreement())
    typed = {"value.title": "Half Reviewed Agreement", f"value.{CURE}": "20"}
    r = await accept(manager, url, page, typed)
    assert r.status_code == 422, text_of(r.text)
    shown = text_of(r.text)
    assert "Not registered" in shown
    for path in missing_paths(page.text):
        assert re.search(rf"{re.escape(path)}: the text does not state it", shown), path
    assert (
        f"{DISPUTE}: the text does not state it" in shown and "use my standard's value: 10" in shown
    )
    # The entries are kept as typed, and nothing was stored.
    kept = form_of(r.text)
    assert kept["value.title"] == "Half Reviewed Agreement" and kept[f"value.{CURE}"] == "20"
    assert _one(Contract, title="Half Reviewed Agreement") == []

    # A wrong value, a value and a tick at once, a figure read then cleared: each named.
    ref = f"MSA-{uuid.uuid4().hex[:8]}"
    entries = the_contracts_entries(ref)
    wrong = {
        **entries,
        **ticked_all_but(page.text, entries),
        f"value.{CURE}": "fifteen",
        f"use_standard.{DISPUTE}": "yes",
        f"value.{PAYMENT}": "",
        "value.customer.notice_email": "not an address",
    }
    r = await accept(manager, url, page, wrong)
    assert r.status_code == 422
    shown = text_of(r.text)
    assert re.search(rf"{re.escape(CURE)}: [^<]*valid integer", shown), shown
    assert f"{DISPUTE}: type a value or tick" in shown
    assert f"{PAYMENT}: cannot be left empty (the text says 30)" in shown
    assert "customer.notice_email: " in shown
    assert form_of(r.text)[f"use_standard.{DISPUTE}"] == "yes"  # the tick is kept too
    assert form_of(r.text)[f"value.{CURE}"] == "fifteen"
    assert _one(Contract, reference=ref) == []


async def test_an_accepted_agreement_registers_its_contract_with_where_each_value_came_from(
    sign_in: SignIn,  # noqa: F811
    api: httpx.AsyncClient,
) -> None:
    manager = await sign_in("contract_manager")
    text = agreement()
    url, page = await reviewed(manager, text)
    ref = f"MSA-{uuid.uuid4().hex[:8]}"
    entries = the_contracts_entries(ref)
    ticks = ticked_all_but(page.text, entries)
    assert ticks, "the agreement should leave figures for the standard to give"
    r = await accept(manager, url, page, {**entries, **ticks})
    assert r.status_code == 303, text_of(r.text)
    location = r.headers["location"]
    assert re.fullmatch(r"/console/contracts/ctr_[0-9a-f]+\?flash=accepted", location)
    contract_id = location.removeprefix("/console/contracts/").split("?")[0]

    (contract,) = _one(Contract, reference=ref)
    assert contract.id == contract_id and contract.customer_name == "Acme Widgets Inc."
    assert contract.effective_date.isoformat() == a_year_ago()
    clauses = contract.terms["clauses"]
    assert clauses["termination_for_cause"]["cure_period_days"] == 20
    assert clauses["payment"]["dispute_window_days"] == 12
    assert clauses["payment"]["payment_days"] == 30
    # Its term and monthly review started with it.
    started = {c.clause for c in _one(Case, contract_id=contract_id)}
    assert {"term_expiry", "monthly_sla_review"} <= started

    rows = {p.path: p for p in _one(FigureProvenance, contract_id=contract_id)}
    actor = "contract_manager@clauseflow.example.com"
    assert {p.accepted_by for p in rows.values()} == {actor}
    assert {p.document_sha256 for p in rows.values()} == {hashlib.sha256(text.encode()).hexdigest()}
    assert {p.document_name for p in rows.values()} == {"acme-msa.txt"}
    cure = rows[CURE]
    assert (cure.how, cure.value, cure.read_value, cure.part) == ("edited", 20, 15, "§10")
    assert text[cure.figure_start : cure.figure_end] == "fifteen (15) days"
    assert text[cure.sentence_start : cure.sentence_end] == cure.sentence
    assert "fails to cure such breach" in (cure.sentence or "")
    payment = rows[PAYMENT]
    assert (payment.how, payment.value, payment.part) == ("read", 30, "§3")
    assert text[payment.figure_start : payment.figure_end] == "thirty (30) days"
    dispute = rows[DISPUTE]
    assert (dispute.how, dispute.value, dispute.sentence) == ("given", 12, None)
    assert dispute.note  # why the text gave none
    for path in (p.removeprefix("use_standard.") for p in ticks):
        assert rows[path].how == "standard", path
    assert rows["owner.email"].how == "standard"  # kept as the standard had it
    assert rows["effective_date"].how == "given"
    assert rows["reference"].how == "given" and rows["reference"].value == ref

    (entry,) = _one(AuditEntry, action="agreement_accepted", contract_id=contract_id)
    assert entry.actor == actor
    assert entry.after["edited"] == {CURE: {"text": 15, "accepted": 20}}
    assert DISPUTE in entry.after["given"] and entry.after["document"] == "acme-msa.txt"
    assert _one(AuditEntry, action="contract_registered", contract_id=contract_id)

    # The contract page: the banner, and beside each figure where it came from.
    contract_page = await manager.get(location)
    shown = text_of(contract_page.text)
    assert "Contract registered from the agreement's text" in shown
    cure_source = re.search(rf'data-path="{CURE}">(.*?)</td>', contract_page.text, re.S)
    assert cure_source is not None
    said = text_of(cure_source.group(1)).replace(" ,", ",")  # a tag's end is not a space
    assert "edited: the text said 15, §10" in said and f"by {actor}" in said
    assert "<mark>fifteen (15) days</mark>" in cure_source.group(1)
    payment_source = re.search(rf'data-path="{PAYMENT}">(.*?)</td>', contract_page.text, re.S)
    assert payment_source is not None
    assert "read from the text and accepted, §3" in text_of(payment_source.group(1)).replace(
        " ,", ","
    )
    assert "acme-msa.txt" in shown and "Start a case" in shown

    # And in the API.
    body = (await api.get(f"/api/contracts/{contract_id}/provenance")).json()
    assert body["document_name"] == "acme-msa.txt"
    by_path = {f["path"]: f for f in body["figures"]}
    assert by_path[CURE]["how"] == "edited" and by_path[CURE]["read_value"] == 15

    # Sent again (the browser's resend): the same contract, not a second one.
    again = await accept(manager, url, page, {**entries, **ticks})
    assert again.status_code == 303
    assert again.headers["location"] == f"/console/contracts/{contract_id}?flash=already_accepted"
    assert len(_one(Contract, reference=ref)) == 1
    assert (
        (await manager.get(url)).headers["location"].startswith(f"/console/contracts/{contract_id}")
    )


async def test_a_contract_registered_from_a_term_sheet_has_no_provenance(
    api: httpx.AsyncClient,
) -> None:
    body = (await api.get("/api/contracts/ctr_reference_msa/provenance")).json()
    assert body["figures"] == [] and body["document_name"] is None
    assert (await api.get("/api/contracts/ctr_nobody/provenance")).status_code == 404


# ------------------------------------------------------------------------------ access


async def test_only_managers_upload_review_and_accept(sign_in: SignIn) -> None:  # noqa: F811
    manager = await sign_in("contract_manager")
    url, page = await reviewed(manager, agreement())
    for role in ("viewer", "operator"):
        client = await sign_in(role)
        form = await client.get(NEW)
        assert form.status_code == 403
        assert f"Your role ({role}) may not register contracts" in text_of(form.text)
        r = await client.post(
            NEW,
            data={"csrf_token": csrf_of(form.text), "text": "An agreement"},
            files={"document": ("", b"", "application/octet-stream")},
        )
        assert r.status_code == 403
        assert (await client.get(url)).status_code == 403
        r = await client.post(
            f"{url}/accept", data={**form_of(page.text), "csrf_token": csrf_of(form.text)}
        )
        assert r.status_code == 403
    forged = await manager.post(f"{url}/accept", data={**form_of(page.text), "csrf_token": "x"})
    assert forged.status_code == 403 and "expired" in forged.text
    forged_upload = await manager.post(
        NEW, data={"csrf_token": "x", "text": "An agreement"}, files={"document": ("", b"")}
    )
    assert forged_upload.status_code == 403
    assert len(_one(AgreementDraft)) == 1
    assert _one(AuditEntry, action="agreement_accepted") == []
    missing = await manager.get("/console/agreements/agr_nobody")
    assert missing.status_code == 404


def _uploaded_days_ago(url: str, days: float, contract_id: str | None = None) -> str:
    """Dates the draft at ``url`` back ``days`` (and marks it accepted as ``contract_id``)."""
    draft_id = url.rsplit("/", 1)[1]
    with Session(get_engine()) as s:
        draft = s.get(AgreementDraft, draft_id)
        assert draft is not None
        draft.created_at = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
        draft.contract_id = contract_id
        s.add(draft)
        s.commit()
    return draft_id


async def test_an_agreement_no_one_accepts_is_removed_with_its_text_after_its_days(
    sign_in: SignIn,  # noqa: F811
) -> None:
    manager = await sign_in("contract_manager")
    days = get_settings().agreement_draft_days
    (url_stale, _), (url_recent, _) = [await reviewed(manager, agreement()) for _ in range(2)]
    stale = _uploaded_days_ago(url_stale, days + 0.01)
    _uploaded_days_ago(url_recent, days - 0.01)

    # Opened after its days, it is gone, and the page says why and what to do.
    r = await manager.get(url_stale)
    assert r.status_code == 404
    assert f"one no one accepts within {days} days is removed" in text_of(r.text)
    assert "upload the agreement again" in text_of(r.text)
    assert not _one(AgreementDraft, id=stale)
    assert (await manager.get(url_recent)).status_code == 200

    # The next upload removes every draft past its days, but never an accepted one.
    (accepted_contract, *_) = _one(Contract)
    now_stale = _uploaded_days_ago(url_recent, days + 1)
    url_accepted, _ = await reviewed(manager, agreement())
    accepted = _uploaded_days_ago(url_accepted, days + 1, accepted_contract.id)
    url_new, _ = await reviewed(manager, agreement())
    assert not _one(AgreementDraft, id=now_stale)
    assert _one(AgreementDraft, id=accepted) and _one(AgreementDraft, id=url_new.rsplit("/")[-1])
