"""Whose notice it is. Clauseflow speaks only for its own party (the term sheet's
``our_side``): a notice whose sender is our side, or an internal one, is sent; one whose
sender is the other party is never sent, and the case expects it instead.

Pure: the decide activity and the what-if sort a rulebook's decisions with it, and the
rules see ``our_side`` and ``given_by_us`` from :func:`side_facts`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal

from contracts.terms import PartyRole, TermSheet, other_party
from rules.rulebook import Rulebook
from rules.rulebook.model import NoticeSpec
from rules.rulebook.vocabulary import EXPECT_NOTICE

if TYPE_CHECKING:  # rendering needs whose() without loading the rules engine
    from rules.engine import Decision

Whose = Literal["ours", "theirs", "internal"]


class UnknownSender(ValueError):
    """A notice of the party that gave notice, in a case that does not say who that was."""


def sender_party(spec: NoticeSpec, facts: Mapping[str, Any]) -> PartyRole | None:
    """The party whose notice it is, or None for an internal one (or one with no sender).

    Raises:
        UnknownSender: the sender is ``notifying_party`` or ``receiving_party`` and the
            case's ``given_by`` is not a party.
    """
    if spec.sender is None or spec.sender == "internal":
        return None
    if spec.sender in ("customer", "provider"):
        return spec.sender  # type: ignore[return-value]
    given_by = facts.get("given_by")
    if given_by not in ("customer", "provider"):
        raise UnknownSender(f"the case does not say who gave notice (given_by is {given_by!r})")
    return given_by if spec.sender == "notifying_party" else other_party(given_by)


def whose(spec: NoticeSpec, our_side: PartyRole, facts: Mapping[str, Any]) -> Whose:
    """``ours`` (we send it), ``theirs`` (we expect it) or ``internal`` (our people only)."""
    party = sender_party(spec, facts)
    if party is None:
        return "internal"
    return "ours" if party == our_side else "theirs"


def side_facts(rb: Rulebook, terms: TermSheet, facts: Mapping[str, Any]) -> dict[str, Any]:
    """``our_side``, and ``given_by_us`` when the case says who gave notice, for rulebooks
    whose notices declare senders (older ones never see them, so their cases decide as
    they always did)."""
    if not rb.declares_senders:
        return {}
    out: dict[str, Any] = {"our_side": terms.our_side}
    if facts.get("given_by") in ("customer", "provider"):
        out["given_by_us"] = facts["given_by"] == terms.our_side
    return out


def sort_decisions(
    rb: Rulebook, terms: TermSheet, facts: Mapping[str, Any], decisions: Iterable[Decision]
) -> list[Decision]:
    """The decisions with each ``send_notice`` of the other party's notice turned into
    ``expect_notice``: the case waits for it and never writes it."""
    our_side = terms.our_side
    out: list[Decision] = []
    for d in decisions:
        spec = rb.notices.get(str(d.value)) if d.action == "send_notice" else None
        if spec is not None and whose(spec, our_side, facts) == "theirs":
            d = dataclasses.replace(d, action=EXPECT_NOTICE)
        out.append(d)
    return out
