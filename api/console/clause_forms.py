"""The contract page's clause forms: start a case, or ask what if, from a clause's facts.

Each clause that a person starts (not those that start with the contract) has one form,
made from the facts its latest rulebook declares, as ``GET /api/clauses`` describes
them. The form has two buttons:

* **Start the case** posts to ``/console/contracts/{id}/cases``, which starts it through
  ``api.case_start.open_case``, as ``POST /api/contracts/{id}/cases`` does (the form
  carries its own idempotency key), then shows the case;
* **What if?** posts to ``/console/contracts/{id}/what-if``, which asks
  ``api.what_if.ask_what_if`` as the API does, and shows the deadlines the facts would
  set. With htmx the answer appears under the form on the contract page; without it, on
  a page of its own.

A refusal shows the clause's form again, as typed, with each wrong field named. Both are
for contract managers (``manage_cases``) and leave an audit entry.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import quote

from email_validator import EmailNotValidError, validate_email
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session
from starlette.datastructures import FormData

from api.access import Principal
from api.case_start import Opened, open_case
from api.console.forms import (
    FieldError,
    audit,
    by_field,
    errors_of_detail,
    manager_form,
    new_form_key,
    role_refusal,
    shown,
)
from api.console.helpers import TEMPLATES, render
from api.console.pages import expired, fields, not_found, signed_in, text, user_page
from api.deps import get_temporal, in_session
from api.errors import facts_errors
from api.what_if import WhatIfPublic, WhatIfRequest, ask_what_if
from rules.facts import FactsError
from rules.rulebook import default_registry
from runtime.settings import get_settings
from store.models import Contract

router = APIRouter(
    prefix="/console/contracts/{contract_id}", tags=["console"], include_in_schema=False
)

#: The fragment htmx puts under the form; the what-if page shows it too.
ANSWER_TEMPLATE = "_what_if_answer.html.j2"


@dataclass(frozen=True)
class FactInput:
    """One start fact as the form asks for it (its input is named ``facts.<name>``)."""

    name: str
    label: str
    type: str
    required: bool
    not_in_future: bool
    one_of: tuple[str, ...] | None


@dataclass(frozen=True)
class ClauseForm:
    """A clause a person starts, with the facts its latest rulebook declares."""

    clause: str
    title: str
    section: str
    summary: str
    version: int
    facts: tuple[FactInput, ...]


def clause_forms() -> list[ClauseForm]:
    """Every clause a person starts, by title; those that start with the contract start
    when it is registered (``POST /api/contracts/{id}/standing-cases`` restarts them)."""
    registry = default_registry()
    out = []
    for clause in registry.clauses():
        rb = registry.latest(clause)
        if rb.starts_with_contract is not None:
            continue
        facts = tuple(
            FactInput(
                name=name,
                label=spec.label,
                type=spec.type,
                required=spec.required,
                not_in_future=spec.not_in_future,
                one_of=tuple(spec.one_of) if spec.one_of else None,
            )
            for name, spec in rb.facts.items()
        )
        out.append(ClauseForm(rb.clause, rb.title, rb.section, rb.summary, rb.version, facts))
    return sorted(out, key=lambda f: f.title)


def clause_form(clause: str) -> ClauseForm | None:
    return next((f for f in clause_forms() if f.clause == clause), None)


# The contract page (api/console/contracts.py) draws these forms through its include of
# _clause_forms.html.j2; what they need is the rulebooks', the same for every request.
TEMPLATES.globals.update(clause_forms=clause_forms, new_form_key=new_form_key)


# ------------------------------------------------------------------------------- pages


@dataclass
class Typed:
    """What the form sent: the clause, its facts as typed, the owner and the form's key."""

    clause: str
    facts: dict[str, str]
    owner_email: str
    key: str

    @classmethod
    def of(cls, form: FormData) -> Typed:
        return cls(
            clause=text(form, "clause").strip(),
            facts=fields(form, "facts."),
            owner_email=text(form, "owner_email").strip(),
            key=text(form, "idempotency_key").strip() or new_form_key(),
        )


def _contract(session: Session, contract_id: str) -> Contract | None:
    return session.get(Contract, contract_id)


async def _clause_page(
    principal: Principal,
    name: str,
    contract_id: str,
    typed: Typed,
    status: int,
    *,
    errors: list[FieldError] | None = None,
    message: str | None = None,
    answer: WhatIfPublic | None = None,
) -> Response:
    """The clause's form on a page of its own, as typed, with what went wrong or the
    what-if answer."""
    contract = await in_session(_contract, contract_id)
    if contract is None:
        return not_found(principal, name, f"contract {contract_id}")
    form = clause_form(typed.clause)
    return user_page(
        "clause_form.html.j2",
        principal,
        name,
        status,
        title=f"{form.title if form else 'Start a case'} · {contract.title}",
        k=contract,
        form=form,
        typed=typed,
        errors=shown(errors or []),
        error_at=by_field(errors or []),
        message=message,
        answer=answer,
        now=dt.datetime.now(dt.UTC),
    )


@router.get("/cases")
@router.get("/what-if")
async def to_the_forms(request: Request, contract_id: str) -> Response:
    """The address of a refused form, reloaded or bookmarked: the forms on the contract page."""
    await signed_in(request)
    return RedirectResponse(f"/console/contracts/{quote(contract_id)}#start-case", status_code=303)


# ------------------------------------------------------------------------- start a case


def _owner_errors(owner_email: str) -> list[FieldError]:
    """The case owner's address, if one was typed: reminders go there, so a typo matters."""
    if not owner_email:
        return []
    try:
        validate_email(owner_email, check_deliverability=False)
    except EmailNotValidError as exc:
        return [FieldError("owner_email", f"is not a valid email address: {exc}")]
    return []


def _audit_start(session: Session, actor: Principal, contract_id: str, opened: Opened) -> None:
    facts = getattr(opened.body, "facts", None)
    clause = getattr(opened.body, "clause", None)
    audit(
        session,
        actor,
        "case_opened",
        contract_id,
        "started from the console",
        case_id=opened.case_id,
        after={"clause": clause, "facts": facts},
    )


@router.post("/cases")
async def start_case(request: Request, contract_id: str) -> Response:
    """Starts a case of the chosen clause with the facts typed, then shows it."""
    checked = await manager_form(request, "start cases")
    if isinstance(checked, Response):
        return checked
    principal, name, form = checked
    typed = Typed.of(form)
    if owner_errors := _owner_errors(typed.owner_email):
        return await _clause_page(principal, name, contract_id, typed, 422, errors=owner_errors)
    try:
        client = await get_temporal(request)
        opened = await open_case(
            client,
            get_settings(),
            contract_id,
            typed.clause,
            dict(typed.facts),
            typed.key,
            typed.owner_email or None,
        )
    except FactsError as exc:
        errors = [FieldError(e.field, e.message) for e in exc.errors]
        return await _clause_page(principal, name, contract_id, typed, 422, errors=errors)
    except HTTPException as exc:
        if exc.status_code == 404:
            return not_found(principal, name, f"contract {contract_id}")
        if exc.status_code == 409 and "Idempotency-Key" in str(exc.detail):
            # This form already started a case with other facts: a fresh key starts another.
            typed.key = new_form_key()
            message = (
                "This form had already started a case with other facts. Check the facts "
                "and send it again to start a second case."
            )
            return await _clause_page(principal, name, contract_id, typed, 409, message=message)
        if exc.status_code == 422:
            errors = errors_of_detail(exc.detail)
            return await _clause_page(principal, name, contract_id, typed, 422, errors=errors)
        return await _clause_page(
            principal, name, contract_id, typed, exc.status_code, message=str(exc.detail)
        )
    if not opened.replayed:  # the same form sent again changes nothing
        await in_session(_audit_start, principal, contract_id, opened)
    return RedirectResponse(
        f"/console/cases/{quote(opened.case_id)}?flash=started", status_code=303
    )


# ----------------------------------------------------------------------------- what if


def _ask(
    session: Session, contract_id: str, typed: Typed, actor: Principal
) -> WhatIfPublic | list[FieldError]:
    """The API's what-if answer, audited; or each fact it refused, named as the API does."""
    body = WhatIfRequest(clause=typed.clause, facts=dict(typed.facts))
    try:
        answer = ask_what_if(session, contract_id, body)
    except FactsError as exc:
        return errors_of_detail(facts_errors(exc))
    audit(
        session,
        actor,
        "what_if_asked",
        contract_id,
        f"what if: {answer.clause.replace('_', ' ')} (nothing was started)",
        after={"clause": answer.clause, "facts": body.facts, "state": answer.state},
    )
    return answer


@router.post("/what-if")
async def what_if(request: Request, contract_id: str) -> Response:
    """The deadlines the typed facts would set, with their explanations; starts nothing."""
    if request.headers.get("HX-Request"):
        return await _what_if_fragment(request, contract_id)
    checked = await manager_form(request, "ask what if")
    if isinstance(checked, Response):
        return checked
    principal, name, form = checked
    typed = Typed.of(form)
    status, answer, errors, message = await _answer(contract_id, typed, principal)
    if status == 404:
        return not_found(principal, name, f"contract {contract_id}")
    return await _clause_page(
        principal,
        name,
        contract_id,
        typed,
        status,
        errors=errors,
        message=message,
        answer=answer,
    )


async def _answer(
    contract_id: str, typed: Typed, principal: Principal
) -> tuple[int, WhatIfPublic | None, list[FieldError], str | None]:
    """(status, answer, errors, message) of a what-if."""
    try:
        answered = await in_session(_ask, contract_id, typed, principal)
    except HTTPException as exc:
        if exc.status_code == 422:
            return 422, None, errors_of_detail(exc.detail), None
        return exc.status_code, None, [], str(exc.detail)
    if isinstance(answered, list):
        return 422, None, answered, None
    return 200, answered, [], None


async def _what_if_fragment(request: Request, contract_id: str) -> Response:
    """The answer alone, for htmx to put under the form on the contract page."""
    principal, name = await signed_in(request)
    form = await request.form()
    typed = Typed.of(form)
    message: str | None = None
    answer: WhatIfPublic | None = None
    errors: list[FieldError] = []
    status = 200
    if expired(principal, name, form) is not None:
        status, message = 403, "The form expired; reload the page and try again."
    elif (why := role_refusal(principal, "ask what if")) is not None:
        status, message = 403, why
    else:
        status, answer, errors, message = await _answer(contract_id, typed, principal)
    contract = await in_session(_contract, contract_id)
    return render(
        ANSWER_TEMPLATE,
        status,
        answer=answer,
        errors=shown(errors),
        message=message,
        zone=contract.time_zone if contract else "UTC",
        now=dt.datetime.now(dt.UTC),
    )
