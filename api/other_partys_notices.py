"""Cases on rulebooks written before notices said whose they are, and the notices they
sent, or may yet send, that belong to the other party.

Such cases keep their word: they run the rulebook version they started on, and replay.
An operator reads this list to decide, case by case, whether to close one and open it
again on the current version. A notice is the other party's when the clause's current
rulebook gives the notice of the same name a sender that is, for this case (its
``given_by``) and this contract (its ``our_side``), not us.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from api.schemas import CaseInTheirNamePublic as CaseInTheirName
from api.timeline import our_side, rulebook_of
from rules.rulebook import default_registry
from rules.senders import UnknownSender, whose
from store.models import Case, Contract, Notice


def cases_in_their_name(session: Session) -> list[CaseInTheirName]:
    """Every case on a rulebook without senders that sent, or may send, a notice in the
    other party's name; open cases first, then by case id."""
    registry = default_registry()
    current = {c: registry.latest(c) for c in registry.clauses()}
    # The versions written before senders, of clauses whose current version has them.
    before = [
        (rb.clause, rb.version)
        for rb in registry.all()
        if not rb.declares_senders and current[rb.clause].declares_senders
    ]
    if not before:
        return []
    of_them = or_(
        *(and_(col(Case.clause) == c, col(Case.rulebook_version) == v) for c, v in before)
    )
    old = list(session.exec(select(Case).where(of_them).order_by(col(Case.closed), col(Case.id))))
    if not old:
        return []
    ids = [c.id for c in old]
    sent: dict[str, set[str]] = {}
    for case_id, notice in session.exec(
        select(Notice.case_id, Notice.notice).where(col(Notice.case_id).in_(ids))
    ):
        sent.setdefault(case_id, set()).add(notice)
    sides = {
        k.id: our_side(k)
        for k in session.exec(
            select(Contract).where(col(Contract.id).in_({c.contract_id for c in old}))
        )
    }
    out: list[CaseInTheirName] = []
    for case in old:
        rb = rulebook_of(case.clause, case.rulebook_version)
        assert rb is not None
        side = sides.get(case.contract_id, "customer")
        theirs = _theirs(current[case.clause].notices, side, case.facts or {})
        done = sent.get(case.id, set())
        row = CaseInTheirName(
            case_id=case.id,
            contract_id=case.contract_id,
            clause=case.clause,
            rulebook_version=case.rulebook_version,
            state=case.state,
            closed=case.closed,
            our_side=side,
            sent=sorted(done & theirs),
            may_yet_send=[] if case.closed else sorted((set(rb.notices) & theirs) - done),
        )
        if row.sent or row.may_yet_send:
            out.append(row)
    return out


def _theirs(notices: dict[str, Any], our_side: str, facts: dict[str, Any]) -> set[str]:
    names = set()
    for name, spec in notices.items():
        try:
            if whose(spec, our_side, facts) == "theirs":  # type: ignore[arg-type]
                names.add(name)
        except UnknownSender:
            continue
    return names
