"""Registering a contract from the agreement's own text: ``/console/agreements``.

A contract manager uploads the agreement (a file ``contracts.text.documents.text_of``
reads, or pasted text) and chooses the standard it is compared with; the text is kept
server-side as a draft (``agreement_draft``), so the review and its acceptance read the
figures from the text again instead of trusting what a browser sends back, a reload
shows the same review, and a resent acceptance registers one contract. The review shows
every figure read with its section and sentence, each departure from the standard, each
figure missing (to give, or to take the standard's value by ticking it) and everything
else prefilled from the standard, marked so. Accepting registers the contract through the
same service as the console's registration and the API (``api/acceptance.py``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData, UploadFile

from api.acceptance import (
    MAX_TEXT,
    Review,
    accept_review,
    excerpt,
    keep_draft,
    review_of,
    standard_of,
    standards,
)
from api.access import Principal
from api.console.forms import FieldError, by_field, manager_form, role_refusal, shown
from api.console.pages import not_found, refused, signed_in, text, user_page
from api.deps import in_session
from api.schemas import ContractRegistered
from contracts.text.documents import DocumentError, text_of
from rules.acceptance import Entry, Item
from runtime.settings import get_settings
from store.agreements import DraftAlreadyAccepted

router = APIRouter(prefix="/console/agreements", tags=["console"], include_in_schema=False)

#: The upload's fields, which errors are named after.
DOCUMENT = "document"
STANDARD = "standard"
#: Read no further than this from an uploaded file (the request's own limit is lower).
FILE_LIMIT = 20_000_000

VALUE = "value."
USE_STANDARD = "use_standard."


# ---------------------------------------------------------------------------- upload


def _upload_page(
    principal: Principal,
    name: str,
    status: int = 200,
    *,
    choices: list[tuple[str, str]],
    values: dict[str, str] | None = None,
    errors: list[FieldError] | None = None,
    filename: str | None = None,
) -> Response:
    return user_page(
        "agreement_new.html.j2",
        principal,
        name,
        status,
        title="Register a contract from the agreement's text",
        choices=choices,
        values=values or {},
        errors=shown(errors or []),
        error_at=by_field(errors or []),
        filename=filename,
        max_text=MAX_TEXT,
    )


@router.get("/new")
async def new_agreement(request: Request) -> Response:
    """The form to upload an agreement and choose the standard it is compared with."""
    principal, name = await signed_in(request)
    if (why := role_refusal(principal, "register contracts")) is not None:
        return refused(principal, name, why)
    return _upload_page(principal, name, choices=await in_session(standards))


async def _document(form: FormData) -> tuple[str, bytes, str]:
    """The agreement's name, bytes as uploaded and text.

    Raises:
        DocumentError: No file and no text, both, or a file ``text_of`` cannot read.
    """
    upload = form.get(DOCUMENT)
    pasted = text(form, "text")
    has_file = isinstance(upload, UploadFile) and bool(upload.filename)
    if has_file and pasted.strip():
        raise DocumentError("send the agreement as a file or paste its text, not both")
    if isinstance(upload, UploadFile) and upload.filename:
        data = await upload.read(FILE_LIMIT + 1)
        if len(data) > FILE_LIMIT:
            raise DocumentError(f"the file is larger than {FILE_LIMIT // 1_000_000} MB")
        return upload.filename, data, text_of(upload.filename, data)
    if not pasted.strip():
        raise DocumentError("choose the agreement's file, or paste its text")
    return "pasted text", pasted.encode("utf-8"), pasted


@router.post("/new")
async def upload_agreement(request: Request) -> Response:
    """Keeps the agreement's text for its review and shows the review; a file that cannot
    be read, or an unknown standard, shows the form again naming the field (422)."""
    checked = await manager_form(request, "register contracts")
    if isinstance(checked, Response):
        return checked
    principal, name, form = checked
    standard_id = text(form, STANDARD).strip() or None
    values = {STANDARD: standard_id or "", "text": text(form, "text")}
    upload = form.get(DOCUMENT)
    filename = upload.filename if isinstance(upload, UploadFile) and upload.filename else None
    errors = []
    if await in_session(standard_of, standard_id) is None:
        errors.append(FieldError(STANDARD, "is not a registered contract's id"))
    try:
        document_name, data, agreement = await _document(form)
        if len(agreement) > MAX_TEXT:
            raise DocumentError(f"the agreement's text is longer than {MAX_TEXT:,} characters")
    except DocumentError as exc:
        errors.insert(0, FieldError(DOCUMENT, str(exc)))
    if errors:
        choices = await in_session(standards)
        return _upload_page(
            principal, name, 422, choices=choices, values=values, errors=errors, filename=filename
        )
    draft_id = await in_session(
        keep_draft,
        document_name,
        data,
        agreement,
        standard_id,
        principal.name,
        get_settings().agreement_draft_days,
    )
    return RedirectResponse(f"/console/agreements/{quote(draft_id)}", status_code=303)


# ---------------------------------------------------------------------------- review


def _sections(items: list[Item]) -> dict[str, Any]:
    """The review's items as the page lists them: read, missing, and the rest by group."""
    groups: dict[str, list[Item]] = {}
    for i in items:
        if i.origin in ("standard", "optional"):
            groups.setdefault(i.group, []).append(i)
    return {
        # Departures and unsure readings first: what most needs a person's eye.
        "read": sorted(
            (i for i in items if i.origin == "read"),
            key=lambda i: (i.deviation is None, i.found is None or i.found.unsure is None),
        ),
        "missing": [i for i in items if i.origin == "missing"],
        "from_standard": list(groups.items()),
        "quotes": {
            i.path: excerpt(i.found.sentence, i.found.sentence_start, i.found.start, i.found.end)
            for i in items
            if i.found is not None
        },
        "deviations": sum(1 for i in items if i.deviation),
    }


def _review_page(
    principal: Principal,
    name: str,
    review: Review,
    status: int = 200,
    *,
    entries: dict[str, Entry] | None = None,
    errors: list[FieldError] | None = None,
) -> Response:
    values = (
        {path: e.text for path, e in entries.items()}
        if entries is not None
        else {i.path: i.prefill for i in review.items}
    )
    ticked = {path for path, e in (entries or {}).items() if e.use_standard}
    return user_page(
        "agreement_review.html.j2",
        principal,
        name,
        status,
        title=f"Review: {review.draft.document_name}",
        draft=review.draft,
        standard=review.standard,
        values=values,
        ticked=ticked,
        errors=shown(errors or []),
        error_at=by_field(errors or []),
        **_sections(review.items),
    )


def _draft_gone(draft_id: str) -> str:
    days = get_settings().agreement_draft_days
    return (
        f"agreement under review {draft_id} (one no one accepts within {days} days is"
        " removed: upload the agreement again)"
    )


def _to_contract(contract_id: str | None, flash: str) -> Response:
    return RedirectResponse(
        f"/console/contracts/{quote(contract_id or '')}?flash={flash}", status_code=303
    )


@router.get("/{draft_id}")
async def review_agreement(request: Request, draft_id: str) -> Response:
    """The review of an uploaded agreement; once accepted, its contract."""
    principal, name = await signed_in(request)
    if (why := role_refusal(principal, "register contracts")) is not None:
        return refused(principal, name, why)
    review = await in_session(review_of, draft_id, get_settings().agreement_draft_days)
    if review is None:
        return not_found(principal, name, _draft_gone(draft_id))
    if review.draft.contract_id is not None:
        return _to_contract(review.draft.contract_id, "already_accepted")
    return _review_page(principal, name, review)


def _entries(form: FormData, review: Review) -> dict[str, Entry]:
    return {
        i.path: Entry(text(form, VALUE + i.path), text(form, USE_STANDARD + i.path) == "yes")
        for i in review.items
    }


def _registered_page(principal: Principal, name: str, registered: ContractRegistered) -> Response:
    # Stored, but what starts with it did not start: said before moving on, as the
    # console's registration says it.
    return user_page(
        "contract_new.html.j2",
        principal,
        name,
        201,
        title="Register a contract",
        registered=registered,
    )


@router.post("/{draft_id}/accept")
async def accept_agreement(request: Request, draft_id: str) -> Response:
    """Registers the contract from the reviewed values and shows its page; values that
    cannot make a term sheet show the review again as typed, each field named (422)."""
    checked = await manager_form(request, "register contracts")
    if isinstance(checked, Response):
        return checked
    principal, name, form = checked
    review = await in_session(review_of, draft_id, get_settings().agreement_draft_days)
    if review is None:
        return not_found(principal, name, _draft_gone(draft_id))
    if review.draft.contract_id is not None:
        return _to_contract(review.draft.contract_id, "already_accepted")
    entries = _entries(form, review)
    try:
        result = await accept_review(principal, review, entries, request, get_settings())
    except DraftAlreadyAccepted as exc:
        return _to_contract(exc.contract_id, "already_accepted")
    if isinstance(result, list):
        errors = [FieldError(path, message) for path, message in result]
        return _review_page(principal, name, review, 422, entries=entries, errors=errors)
    if result.warnings:
        return _registered_page(principal, name, result)
    return _to_contract(result.id, "accepted")
