"""The contract manager's console forms: registering a contract from its term sheet,
starting a case and asking what if from the contract page. Each goes through the API's
own code, names the field it refuses, refuses other roles and leaves an audit entry."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from typing import Any

import httpx
import pytest
import yaml
from sqlmodel import Session, col, select

from store.db import get_engine
from store.models import AuditEntry, Case, Contract
from tests.api.test_console import SignIn, csrf_of, sign_in, text_of  # noqa: F401
from tests.conftest import REPO
from tests.dates import NY, described, ny_today

REFERENCE_MSA = REPO / "contracts" / "term_sheets" / "reference_msa.yaml"
CONTRACT = "/console/contracts/ctr_reference_msa"


def term_sheet(**changes: Any) -> dict[str, Any]:
    """The reference MSA's term sheet with a fresh reference, effective 30 days ago."""
    terms: dict[str, Any] = yaml.safe_load(REFERENCE_MSA.read_text())
    terms["title"] = "Master Services Agreement (console test)"
    terms["reference"] = f"MSA-{uuid.uuid4().hex[:8]}"
    terms["effective_date"] = (ny_today() - dt.timedelta(days=30)).isoformat()
    terms.update(changes)
    return terms


def as_yaml(terms: dict[str, Any]) -> bytes:
    return yaml.safe_dump(terms, sort_keys=False).encode()


def ny_local(at: dt.datetime) -> str:
    """An instant as a datetime-local input holds it, in New York (the contract's zone)."""
    return at.astimezone(NY).strftime("%Y-%m-%dT%H:%M")


def contracts_titled(title: str) -> list[Contract]:
    with Session(get_engine()) as s:
        return list(s.exec(select(Contract).where(Contract.title == title)))


def entries(action: str, contract_id: str | None = None) -> list[AuditEntry]:
    with Session(get_engine()) as s:
        query = select(AuditEntry).where(AuditEntry.action == action)
        if contract_id is not None:
            query = query.where(AuditEntry.contract_id == contract_id)
        return list(s.exec(query.order_by(col(AuditEntry.id))))


def cases_of(contract_id: str, clause: str) -> list[Case]:
    with Session(get_engine()) as s:
        query = select(Case).where(Case.contract_id == contract_id, Case.clause == clause)
        return list(s.exec(query))


async def register(
    client: httpx.AsyncClient,
    fields: dict[str, str] | None = None,
    file: tuple[str, bytes] | None = None,
) -> httpx.Response:
    """Sends the registration form as the browser does (multipart, with the CSRF token)."""
    page = await client.get("/console/contracts/new")
    assert page.status_code == 200, page.text
    files = {"term_sheet": (file[0], file[1], "application/octet-stream")} if file else None
    data = {"csrf_token": csrf_of(page.text), **(fields or {})}
    if files is None:
        # Multipart even without a file, as the form's enctype says.
        files = {"term_sheet": ("", b"", "application/octet-stream")}
    return await client.post("/console/contracts/new", data=data, files=files)


def invoice_facts(**changes: str) -> dict[str, str]:
    """An invoice received yesterday, as the contract page's invoice form sends it."""
    received = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    facts = {
        "facts.invoice_received_at": ny_local(received),
        "facts.invoice_number": "INV-7781",
        "facts.invoice_amount": "1250.00",
    }
    facts.update(changes)
    return facts


async def send_clause_form(
    client: httpx.AsyncClient,
    action: str,
    clause: str,
    facts: dict[str, str],
    contract: str = CONTRACT,
    **extra: str,
) -> httpx.Response:
    """Sends one clause form of the contract page (to ``cases`` or ``what-if``) with the
    key the page gave it."""
    page = await client.get(contract)
    assert page.status_code == 200, page.text
    form = re.search(
        rf'<form id="start-{clause}".*?name="idempotency_key" value="([^"]+)"', page.text, re.S
    )
    assert form, f"the contract page has no form for {clause}"
    data = {
        "csrf_token": csrf_of(page.text),
        "clause": clause,
        "idempotency_key": form.group(1),
        **facts,
        **extra,
    }
    return await client.post(f"{contract}/{action}", data=data)


# --------------------------------------------------------------- registering a contract


async def test_a_manager_registers_a_contract_from_an_uploaded_yaml_term_sheet(
    sign_in: SignIn,  # noqa: F811
) -> None:
    manager = await sign_in("contract_manager")
    nav = await manager.get("/console")
    assert 'href="/console/contracts/new"' in nav.text  # the nav offers it to managers
    terms = term_sheet()
    r = await register(manager, file=("acme-msa.yaml", as_yaml(terms)))
    assert r.status_code == 303, text_of(r.text)
    assert r.headers["location"].endswith("?flash=registered")
    contract_id = r.headers["location"].removeprefix("/console/contracts/").split("?")[0]
    assert contract_id.startswith("ctr_")

    (stored,) = contracts_titled(terms["title"])
    assert stored.id == contract_id and stored.reference == terms["reference"]
    assert stored.effective_date.isoformat() == terms["effective_date"]
    assert stored.terms["clauses"]["payment"]["payment_days"] == 30
    (entry,) = entries("contract_registered", contract_id)
    assert entry.actor == "contract_manager@clauseflow.example.com"
    assert entry.after == {"title": terms["title"], "reference": terms["reference"]}

    page = await manager.get(r.headers["location"])
    assert page.status_code == 200
    shown = text_of(page.text)
    assert terms["title"] in shown and terms["reference"] in shown
    assert "Contract registered: its term and monthly review have started." in shown
    assert "Start a case" in shown  # the manager can go on from here


async def test_a_json_term_sheet_registers_and_typed_fields_replace_its_values(
    sign_in: SignIn,  # noqa: F811
) -> None:
    manager = await sign_in("admin")
    terms = term_sheet()
    effective = ny_today() - dt.timedelta(days=3)
    typed = {
        "title": "Hosting Agreement (typed over the file)",
        "effective_date": effective.isoformat(),
        "provider.name": "Other Provider LLC",
        "our_side": "provider",
    }
    r = await register(manager, typed, ("terms.json", json.dumps(terms).encode()))
    assert r.status_code == 303, text_of(r.text)
    (stored,) = contracts_titled("Hosting Agreement (typed over the file)")
    assert stored.effective_date == effective and stored.provider_name == "Other Provider LLC"
    assert stored.terms["our_side"] == "provider"
    # What was not typed comes from the file.
    assert stored.reference == terms["reference"]
    assert stored.customer_name == terms["customer"]["name"]


async def test_a_contract_typed_without_a_file_takes_the_reference_figures(
    sign_in: SignIn,  # noqa: F811
) -> None:
    manager = await sign_in("contract_manager")
    typed = {
        "title": "Typed Services Agreement",
        "effective_date": (ny_today() - dt.timedelta(days=10)).isoformat(),
        "fees.monthly_fee": "9000.00",
        "customer.name": "Typed Customer Inc.",
        "customer.notice_email": "legal@typed-customer.example.com",
        "provider.name": "Typed Provider LLC",
        "provider.notice_email": "notices@typed-provider.example.com",
        "owner.name": "Pat Owner",
        "owner.email": "pat.owner@typed-customer.example.com",
    }
    r = await register(manager, typed)
    assert r.status_code == 303, text_of(r.text)
    (stored,) = contracts_titled("Typed Services Agreement")
    assert stored.time_zone == "America/New_York"
    assert stored.terms["fees"]["monthly_fee"] == "9000.00"
    assert stored.terms["clauses"]["termination_for_convenience"]["notice_period_days"] == 90


def _without_owner() -> bytes:
    terms = term_sheet()
    del terms["owner"]
    return as_yaml(terms)


@pytest.mark.parametrize(
    ("name", "content", "field", "says"),
    [
        ("bad.yaml", b"title: [unclosed\ncustomer: {", "term_sheet", "not valid YAML (line"),
        ("bad.json", b'{"title": "x",}', "term_sheet", "not valid JSON (line 1"),
        ("list.yaml", b"- title\n- customer\n", "term_sheet", "not a list"),
        ("twice.yaml", b"title: a\ntitle: b\n", "term_sheet", "given twice"),
        ("latin1.yaml", "title: Société".encode("latin-1"), "term_sheet", "not text"),
        ("empty.yaml", b"  \n", "term_sheet", "the file is empty"),
        ("unknown.yaml", as_yaml(term_sheet(governing_court="Delaware")), "governing_court", ""),
        ("no-owner.yaml", _without_owner(), "owner.name", "is required"),
        (
            "wrong-type.yaml",
            as_yaml(term_sheet(fees={"monthly_fee": "a lot"})),
            "fees.monthly_fee",
            "valid decimal",
        ),
        (
            "wrong-zone.json",
            json.dumps(term_sheet(time_zone="Mars/Olympus_Mons")).encode(),
            "time_zone",
            "unknown time zone",
        ),
        (
            "bad-figure.yaml",
            as_yaml(term_sheet(clauses={"payment": {"payment_days": "thirty"}})),
            "clauses.payment.payment_days",
            "valid integer",
        ),
    ],
)
async def test_a_term_sheet_that_cannot_be_registered_is_refused_naming_the_field(
    sign_in: SignIn,  # noqa: F811
    name: str,
    content: bytes,
    field: str,
    says: str,
) -> None:
    manager = await sign_in("contract_manager")
    typed = {"title": f"Refused {name}"}
    r = await register(manager, typed, (name, content))
    assert r.status_code == 422, r.text
    shown = text_of(r.text)
    assert "Not registered" in shown
    assert re.search(rf"{re.escape(field)}: [^<]*{re.escape(says)}", shown), shown
    # The form comes back as typed, and nothing was stored.
    assert 'value="Refused ' in r.text
    assert contracts_titled(f"Refused {name}") == []


async def test_a_missing_field_is_named_beside_its_input(sign_in: SignIn) -> None:  # noqa: F811
    manager = await sign_in("contract_manager")
    r = await register(manager, {"title": "Half typed", "customer.name": "Only A Name Inc."})
    assert r.status_code == 422
    # The input is marked and its message sits beside it.
    assert 'aria-describedby="customer-notice_email-error"' in r.text
    assert 'id="customer-notice_email-error">customer.notice_email: is required' in r.text
    assert 'value="Only A Name Inc."' in r.text
    assert contracts_titled("Half typed") == []


async def test_only_managers_register_contracts(sign_in: SignIn) -> None:  # noqa: F811
    for role in ("viewer", "operator"):
        client = await sign_in(role)
        assert 'href="/console/contracts/new"' not in (await client.get("/console")).text
        page = await client.get("/console/contracts/new")
        assert page.status_code == 403
        assert f"Your role ({role}) may not register contracts" in text_of(page.text)
        r = await client.post(
            "/console/contracts/new",
            data={"csrf_token": csrf_of(page.text), "title": f"By a {role}"},
            files={"term_sheet": ("t.yaml", as_yaml(term_sheet(title=f"By a {role}")))},
        )
        assert r.status_code == 403
        assert contracts_titled(f"By a {role}") == []

    manager = await sign_in("contract_manager")
    forged = await manager.post(
        "/console/contracts/new",
        data={"csrf_token": "not-the-session's"},
        files={"term_sheet": ("t.yaml", as_yaml(term_sheet(title="Forged")))},
    )
    assert forged.status_code == 403 and "expired" in forged.text
    assert contracts_titled("Forged") == []


# ------------------------------------------------------------------------ starting a case


async def test_a_manager_starts_an_invoice_case_from_the_contract_page(
    sign_in: SignIn,  # noqa: F811
) -> None:
    manager = await sign_in("contract_manager")
    page = await manager.get(CONTRACT)
    # One form per clause a person starts, made from the rulebook's facts.
    assert 'name="facts.invoice_amount"' in page.text
    assert 'data-clause="termination_for_convenience"' in page.text
    assert 'data-clause="monthly_sla_review"' not in page.text  # starts with the contract

    r = await send_clause_form(manager, "cases", "invoice_payment", invoice_facts())
    assert r.status_code == 303, text_of(r.text)
    assert r.headers["location"].endswith("?flash=started")
    case_id = r.headers["location"].removeprefix("/console/cases/").split("?")[0]
    (case,) = cases_of("ctr_reference_msa", "invoice_payment")
    assert case.id == case_id and case.facts["invoice_amount"] == "1250.00"
    assert case.owner_email == "contract.owner@customer.example.com"

    (entry,) = entries("case_opened", "ctr_reference_msa")
    assert entry.case_id == case_id
    assert entry.actor == "contract_manager@clauseflow.example.com"
    assert entry.after["clause"] == "invoice_payment"
    assert entry.after["facts"]["invoice_number"] == "INV-7781"

    shown = text_of((await manager.get(r.headers["location"])).text)
    assert "Invoice payment" in shown and "Case opened by contract_manager@" in shown
    assert "Case started: the rules have set its deadlines" in shown
    listed = text_of((await manager.get(CONTRACT)).text)
    assert "INV-7781" in listed  # the contract page lists it, by its invoice number


async def test_the_same_form_sent_twice_starts_one_case(sign_in: SignIn) -> None:  # noqa: F811
    manager = await sign_in("contract_manager")
    page = await manager.get(CONTRACT)
    key = re.search(
        r'<form id="start-invoice_payment".*?name="idempotency_key" value="([^"]+)"',
        page.text,
        re.S,
    )
    assert key is not None
    data = {
        "csrf_token": csrf_of(page.text),
        "clause": "invoice_payment",
        "idempotency_key": key.group(1),
        **invoice_facts(),
    }
    first = await manager.post(f"{CONTRACT}/cases", data=data)
    again = await manager.post(f"{CONTRACT}/cases", data=data)  # the browser's resend
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]
    assert len(cases_of("ctr_reference_msa", "invoice_payment")) == 1
    assert len(entries("case_opened", "ctr_reference_msa")) == 1

    # Other facts under the same key: the form says so and gets a fresh key.
    other = await manager.post(f"{CONTRACT}/cases", data={**data, "facts.invoice_amount": "99.00"})
    assert other.status_code == 409
    assert "already started a case with other facts" in text_of(other.text)
    assert f'value="{key.group(1)}"' not in other.text
    assert len(cases_of("ctr_reference_msa", "invoice_payment")) == 1


@pytest.mark.parametrize(
    ("facts", "extra", "field", "says"),
    [
        ({"facts.invoice_amount": ""}, {}, "facts.invoice_amount", "is required"),
        ({"facts.invoice_amount": "twelve"}, {}, "facts.invoice_amount", ""),
        (
            {"facts.invoice_received_at": ny_local(dt.datetime.now(dt.UTC) + dt.timedelta(days=3))},
            {},
            "facts.invoice_received_at",
            "must not be in the future",
        ),
        ({"facts.not_a_fact": "x"}, {}, "facts.not_a_fact", "unknown fact"),
        ({}, {"owner_email": "not an address"}, "owner_email", "not a valid email"),
    ],
)
async def test_a_case_that_cannot_start_is_refused_naming_the_field(
    sign_in: SignIn,  # noqa: F811
    facts: dict[str, str],
    extra: dict[str, str],
    field: str,
    says: str,
) -> None:
    manager = await sign_in("contract_manager")
    r = await send_clause_form(manager, "cases", "invoice_payment", invoice_facts(**facts), **extra)
    assert r.status_code == 422, r.text
    shown = text_of(r.text)
    assert "Nothing was started" in shown
    assert re.search(rf"{re.escape(field)}: [^<]*{re.escape(says)}", shown), shown
    # The clause's form comes back as typed, to correct and send again.
    assert 'value="INV-7781"' in r.text
    assert cases_of("ctr_reference_msa", "invoice_payment") == []
    assert entries("case_opened") == []


async def test_an_unknown_clause_is_refused_naming_the_field(sign_in: SignIn) -> None:  # noqa: F811
    manager = await sign_in("contract_manager")
    page = await manager.get(CONTRACT)
    r = await manager.post(
        f"{CONTRACT}/cases",
        data={"csrf_token": csrf_of(page.text), "clause": "force_majeure", "facts.x": "1"},
    )
    assert r.status_code == 422
    assert "clause: unknown clause 'force_majeure'" in text_of(r.text)


# ----------------------------------------------------------------------------- what if


async def test_what_if_shows_the_deadlines_a_future_notice_would_set_and_starts_nothing(
    sign_in: SignIn,  # noqa: F811
) -> None:
    manager = await sign_in("contract_manager")
    # "If we give notice in ten days, when does the termination take effect?"
    notice_day = ny_today() + dt.timedelta(days=10)
    facts = {
        "facts.notice_received_at": f"{notice_day.isoformat()}T10:00",
        "facts.given_by": "customer",
    }
    r = await send_clause_form(manager, "what-if", "termination_for_convenience", facts)
    assert r.status_code == 200, text_of(r.text)
    shown = text_of(r.text)
    assert "What if:" in shown and "Nothing was started" in shown
    effective = notice_day + dt.timedelta(days=90)
    assert f"day 90 is {described(effective)}" in shown  # the explanation, in words
    assert cases_of("ctr_reference_msa", "termination_for_convenience") == []
    (entry,) = entries("what_if_asked", "ctr_reference_msa")
    assert entry.actor == "contract_manager@clauseflow.example.com"
    assert entry.after["clause"] == "termination_for_convenience"

    # With htmx, only the answer, to go under the form on the contract page.
    page = await manager.get(CONTRACT)
    fragment = await manager.post(
        f"{CONTRACT}/what-if",
        data={"csrf_token": csrf_of(page.text), "clause": "termination_for_convenience", **facts},
        headers={"HX-Request": "true"},
    )
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<div class="what-if-answer">')
    assert "<html" not in fragment.text and f"day 90 is {described(effective)}" in fragment.text


async def test_what_if_with_facts_that_do_not_fit_names_each_field(
    sign_in: SignIn,  # noqa: F811
) -> None:
    manager = await sign_in("contract_manager")
    facts = {"facts.notice_received_at": "the day after tomorrow", "facts.given_by": "nobody"}
    r = await send_clause_form(manager, "what-if", "termination_for_convenience", facts)
    assert r.status_code == 422
    shown = text_of(r.text)
    assert "facts.notice_received_at:" in shown
    assert "facts.given_by: must be customer or provider" in shown
    assert 'value="the day after tomorrow"' in r.text
    assert entries("what_if_asked") == []


# ------------------------------------------------------------------------ who may do it


async def test_only_managers_start_cases_and_ask_what_if(sign_in: SignIn) -> None:  # noqa: F811
    for role in ("viewer", "operator"):
        client = await sign_in(role)
        page = await client.get(CONTRACT)
        assert page.status_code == 200
        assert 'name="facts.invoice_amount"' not in page.text  # no forms to fill in
        token = csrf_of(page.text)
        started = await client.post(
            f"{CONTRACT}/cases",
            data={"csrf_token": token, "clause": "invoice_payment", **invoice_facts()},
        )
        assert started.status_code == 403
        assert f"Your role ({role}) may not start cases" in text_of(started.text)
        asked = await client.post(
            f"{CONTRACT}/what-if",
            data={"csrf_token": token, "clause": "invoice_payment", **invoice_facts()},
        )
        assert asked.status_code == 403
        assert f"Your role ({role}) may not ask what if" in text_of(asked.text)
        in_place = await client.post(
            f"{CONTRACT}/what-if",
            data={"csrf_token": token, "clause": "invoice_payment", **invoice_facts()},
            headers={"HX-Request": "true"},
        )
        assert in_place.status_code == 403 and "may not ask what if" in in_place.text
    assert cases_of("ctr_reference_msa", "invoice_payment") == []
    assert entries("case_opened") == [] and entries("what_if_asked") == []

    manager = await sign_in("contract_manager")
    forged = await manager.post(
        f"{CONTRACT}/cases",
        data={"csrf_token": "forged", "clause": "invoice_payment", **invoice_facts()},
    )
    assert forged.status_code == 403 and "expired" in forged.text
    assert cases_of("ctr_reference_msa", "invoice_payment") == []


async def test_a_refused_forms_address_reloaded_leads_back_to_the_forms(
    sign_in: SignIn,  # noqa: F811
) -> None:
    manager = await sign_in("contract_manager")
    for action in ("cases", "what-if"):
        r = await manager.get(f"{CONTRACT}/{action}")
        assert r.status_code == 303 and r.headers["location"] == f"{CONTRACT}#start-case"


async def test_the_forms_of_an_unknown_contract_answer_404(sign_in: SignIn) -> None:  # noqa: F811
    manager = await sign_in("contract_manager")
    page = await manager.get(CONTRACT)
    for action in ("cases", "what-if"):
        r = await manager.post(
            f"/console/contracts/ctr_nonesuch/{action}",
            data={"csrf_token": csrf_of(page.text), "clause": "invoice_payment", **invoice_facts()},
        )
        assert r.status_code == 404 and "There is no contract ctr_nonesuch" in text_of(r.text)
