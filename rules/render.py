"""Writing a notice: its subject, plain text and HTML from the clause's templates, and its
recipients from the term sheet. Pure: the same case, facts and time give the same notice.

The notice activities (activities/notices.py) write what this renders and send it; the
API's previews render with it too, without writing or sending anything.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import jinja2

from contracts.calendar import (
    describe_day,
    describe_deadline,
    describe_instant,
    ends_its_last_day,
)
from contracts.terms import TermSheet, other_party
from rules.rulebook import Rulebook, default_registry
from rules.senders import whose

#: Layouts shared by every clause's notices (header, footer).
LAYOUTS = Path(__file__).resolve().parent / "notice_layouts"


class RenderError(ValueError):
    """A notice that cannot be written (a template that fails, an unknown recipient)."""


class DeadlineLike(Protocol):
    """A deadline of the case as its notices quote it (activities.types.DeadlineView)."""

    @property
    def name(self) -> str: ...
    @property
    def label(self) -> str: ...
    @property
    def due_at(self) -> dt.datetime: ...
    @property
    def last_day(self) -> dt.date | None: ...
    @property
    def explanation(self) -> list[str]: ...
    @property
    def status(self) -> str: ...


@dataclass(frozen=True)
class NoticeRequest:
    """Which notice of which case, as the case stands at ``at``."""

    case_id: str
    notice: str
    state: str
    at: dt.datetime
    facts: Mapping[str, Any]
    deadlines: Mapping[str, DeadlineLike] = field(default_factory=dict)
    #: The case's current owner; notices "to owner" go here (else the term sheet's owner).
    owner_email: str | None = None


@dataclass(frozen=True)
class RenderedNotice:
    subject: str
    body_text: str
    body_html: str
    to: list[str]
    cc: list[str]


@lru_cache(maxsize=256)
def _subject(folders: tuple[Path, ...], source: str) -> jinja2.Template:
    """A notice's subject line, compiled once (a body template is cached by its loader)."""
    return _environment(folders, False).from_string(source)


@lru_cache(maxsize=64)
def _environment(folders: tuple[Path, ...], html: bool) -> jinja2.Environment:
    # StrictUndefined: a template that names a missing value fails loudly instead of
    # sending a notice with a blank where a date should be.
    return jinja2.Environment(
        loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(f)) for f in (*folders, LAYOUTS)]),
        undefined=jinja2.StrictUndefined,
        autoescape=html,
        keep_trailing_newline=True,
    )


def _deadline_context(d: DeadlineLike, zone: str) -> dict[str, Any]:
    return {
        "name": d.name,
        "label": d.label,
        "due_at": d.due_at,
        "local_due_text": describe_instant(d.due_at, zone),
        # "at the end of Thu 31 Dec 2026, New York time" for a deadline that runs to the
        # end of its last day, else "at Fri 1 Jan 2027 10:00 New York time".
        "due_phrase": (
            f"at the {describe_deadline(d.due_at, d.last_day, zone)}"
            if ends_its_last_day(d.due_at, d.last_day, zone)
            else f"at {describe_instant(d.due_at, zone)}"
        ),
        "local_date_text": describe_day(d.last_day)
        if d.last_day
        else describe_instant(d.due_at, zone),
        "last_day": d.last_day,
        "explanation": d.explanation,
        "status": d.status,
    }


def recipients(
    roles: list[str], terms: TermSheet, facts: Mapping[str, Any], owner_email: str | None = None
) -> list[str]:
    """The addresses of the roles a notice goes to, each once, in order."""
    out: list[str] = []
    for role in roles:
        if role == "owner":
            # The case's current owner (an operator may have reassigned it).
            emails = [owner_email or terms.owner.email]
        else:
            if role == "notifying_party":
                party = terms.party(facts["given_by"])
            elif role == "receiving_party":
                party = terms.party(other_party(facts["given_by"]))
            elif role in ("customer", "provider"):
                party = terms.party(role)  # type: ignore[arg-type]
            else:
                raise RenderError(f"unknown recipient role {role!r}")
            emails = [party.notice_email, *party.copy_to]
        out.extend(e for e in emails if e not in out)
    return out


def render_notice(rb: Rulebook, terms: TermSheet, req: NoticeRequest) -> RenderedNotice:
    """Renders a notice's subject, plain text and HTML, and resolves its recipients.

    The term sheet is completed first, so a template may quote any declared figure,
    even of a contract registered before the clause declared it.

    Raises:
        RenderError: a template fails (a value it names is missing, say) or a recipient
            role is unknown.
    """
    terms = default_registry().complete_terms(terms)
    spec = rb.notices[req.notice]
    if spec.sender is not None and whose(spec, terms.our_side, req.facts) == "theirs":
        # Never written in the other party's name, whatever asked for it.
        raise RenderError(
            f"notice {req.notice} is the other party's to give ({spec.sender}); "
            f"we are the {terms.our_side}, so the case expects it and never writes it"
        )
    zone = terms.time_zone
    # Optional facts (and fields of facts not recorded yet) are named, as empty values.
    declared = [*rb.facts, *(f for rf in rb.recordable_facts.values() for f in rf.fields)]
    facts = dict.fromkeys(declared) | dict(req.facts)
    given_by = facts.get("given_by")
    context = {
        "contract": terms.model_dump(mode="json"),
        "terms": terms,
        "case": {
            "id": req.case_id,
            "clause": rb.clause,
            "title": rb.title,
            "section": rb.section,
            "state": req.state,
            "state_label": rb.states[req.state].label if req.state in rb.states else req.state,
        },
        "facts": facts,
        "deadlines": {k: _deadline_context(v, zone) for k, v in req.deadlines.items()},
        "customer": terms.customer,
        "provider": terms.provider,
        "owner": terms.owner,
        # Whose notice it is (None: a rulebook written before senders), and the parties
        # from our side: ours runs Clauseflow, theirs is the other party.
        "sender": spec.sender,
        "our_party": terms.party(terms.our_side),
        "their_party": terms.party(other_party(terms.our_side)),
        "notifying_party": terms.party(given_by) if given_by else None,
        "receiving_party": terms.party(other_party(given_by)) if given_by else None,
        "sent_on_text": describe_instant(req.at, zone),
        "describe_instant": lambda v: describe_instant(
            v if isinstance(v, dt.datetime) else dt.datetime.fromisoformat(str(v)), zone
        ),
        "zone": ZoneInfo(zone),
    }
    folder = rb.template_folders
    try:
        subject = _subject(folder, spec.subject).render(context).strip()
        text = _environment(folder, False).get_template(f"{req.notice}.txt.j2").render(context)
        html = _environment(folder, True).get_template(f"{req.notice}.html.j2").render(context)
    except jinja2.TemplateError as exc:
        raise RenderError(str(exc)) from exc
    return RenderedNotice(
        subject=subject,
        body_text=text,
        body_html=html,
        to=recipients(spec.to, terms, facts, req.owner_email),
        cc=recipients(spec.copy_, terms, facts, req.owner_email),
    )
