"""What the console's contract manager forms share: who may send them, the errors they
show field by field, and the audit entry each leaves.

The forms are registering a contract (``api/console/registration.py``) and, on the
contract page, starting a case and asking what if (``api/console/clause_forms.py``).
Each goes through the same code as its REST endpoint; this module is only the console's
side of it: the session, the CSRF token, the role, and answering in a page.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlmodel import Session
from starlette.datastructures import FormData

from api.access import PERMISSIONS, Principal
from api.console.pages import expired, refused, signed_in
from store.models import AuditEntry

#: The permission every one of these forms needs, as ``POST /api/contracts`` and the
#: case and what-if endpoints do (``api.access.Manager``).
MANAGE = "manage_cases"

#: At most this many errors are listed; a file with more is rarely one typo.
MAX_ERRORS_SHOWN = 25


@dataclass(frozen=True)
class FieldError:
    """One thing wrong with what a form sent, named by its field (``customer.name``,
    ``facts.invoice_amount``, ``term_sheet``)."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


def by_field(errors: list[FieldError]) -> dict[str, str]:
    """The first message for each field, for the form to show beside its input."""
    out: dict[str, str] = {}
    for e in errors:
        out.setdefault(e.field, e.message)
    return out


def shown(errors: list[FieldError]) -> list[str]:
    """The errors as the page lists them, cut short after ``MAX_ERRORS_SHOWN``."""
    lines = [str(e) for e in errors[:MAX_ERRORS_SHOWN]]
    if len(errors) > MAX_ERRORS_SHOWN:
        lines.append(f"… and {len(errors) - MAX_ERRORS_SHOWN} more")
    return lines


def errors_of_detail(detail: Any) -> list[FieldError]:
    """The REST API's 422 ``detail`` (a list of ``{"field", "msg"}``, or a sentence) as
    field errors, so that the console names the same fields the API does."""
    if isinstance(detail, list):
        return [
            FieldError(str(e.get("field") or "request"), str(e.get("msg") or e))
            for e in detail
            if isinstance(e, dict)
        ]
    return [FieldError("request", str(detail))]


def new_form_key() -> str:
    """A fresh key for a form that starts something: sent twice (a double click, the
    browser's resend), it finds what the first sending started instead of a second one."""
    return "console-" + secrets.token_urlsafe(18)


def role_refusal(principal: Principal, doing: str) -> str | None:
    """Why the signed-in user's role may not do this, or None if it may."""
    if principal.can(MANAGE):
        return None
    roles = " or ".join(r.replace("_", " ") for r in PERMISSIONS[MANAGE])
    return (
        f"Your role ({principal.role.replace('_', ' ')}) may not {doing}; "
        f"it needs the manage cases permission ({roles})."
    )


async def manager_form(request: Request, doing: str) -> tuple[Principal, str, FormData] | Response:
    """The signed-in user, their name and the form they sent, if they may send it.

    Returns:
        A redirect to sign in (raised), the 403 page of a form whose CSRF token is not
        the session's, or of a role that may not ``doing`` (e.g. "register contracts").
    """
    principal, name = await signed_in(request)
    form = await request.form()
    if (refusal := expired(principal, name, form)) is not None:
        return refusal
    if (why := role_refusal(principal, doing)) is not None:
        return refused(principal, name, why)
    return principal, name, form


def audit(
    session: Session,
    actor: Principal,
    action: str,
    contract_id: str,
    reason: str,
    *,
    case_id: str | None = None,
    after: Any = None,
) -> None:
    """Adds (and commits) the audit entry of a contract manager's console action."""
    session.add(
        AuditEntry(
            at=dt.datetime.now(dt.UTC),
            actor=actor.name,
            action=action,
            contract_id=contract_id,
            case_id=case_id,
            reason=reason,
            after=after,
        )
    )
    session.commit()
