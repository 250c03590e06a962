"""Whose notice it is: the checker's refusals, and how a decision to send the other
party's notice becomes one to expect it (rules/senders.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from contracts.terms import TermSheet
from rules.engine import Decision
from rules.render import NoticeRequest, RenderError, render_notice
from rules.rulebook import Rulebook, RulebookError, RulebookRegistry, load_rulebook
from rules.senders import UnknownSender, sender_party, side_facts, sort_decisions, whose
from tests.rules.test_rulebook import VALID, assert_rejected, line_of, write_rulebook
from workers.seed import reference_term_sheet

# VALID with senders: the notifying party's hello to the receiving party, an internal bye.
SIDED = VALID.replace(
    """    to: [notifying_party]
    copy: [owner]""",
    """    sender: notifying_party
    label: the notifying party's hello
    expected_by: due
    received_as: settled
    to: [receiving_party]
    copy: [owner]""",
).replace(
    """    subject: Bye
    to: [customer, provider]""",
    """    subject: Bye
    sender: internal
    to: [owner]""",
)
# VALID names its party fact "who"; a sender of the notifying party needs "given_by".
SIDED = SIDED.replace("  who: {type: party", "  given_by: {type: party")


def sided(tmp_path: Path, text: str = SIDED) -> Rulebook:
    return load_rulebook(write_rulebook(tmp_path, text))


def terms(our_side: str = "customer") -> TermSheet:
    return reference_term_sheet().model_copy(update={"our_side": our_side})


def test_a_rulebook_with_senders_loads_and_says_so(tmp_path: Path) -> None:
    rb = sided(tmp_path)
    assert rb.declares_senders
    assert rb.notices["hello"].sender == "notifying_party"
    assert not load_rulebook(write_rulebook(tmp_path / "old", VALID)).declares_senders


def test_once_one_notice_has_a_sender_every_notice_must(tmp_path: Path) -> None:
    text = SIDED.replace("    sender: internal\n", "")
    assert_rejected(
        tmp_path, text, line_of(text, "  bye:"), "'bye' does not say whose notice it is"
    )


def test_an_internal_notice_goes_to_our_own_people_only(tmp_path: Path) -> None:
    text = SIDED.replace(
        "    sender: internal\n    to: [owner]", "    sender: internal\n    to: [customer]"
    )
    assert_rejected(tmp_path, text, line_of(text, "to: [customer]"), "internal", "not to customer")


def test_a_partys_notice_is_addressed_to_the_other_party(tmp_path: Path) -> None:
    text = SIDED.replace("    to: [receiving_party]", "    to: [notifying_party]")
    assert_rejected(tmp_path, text, line_of(text, "to: [notifying_party]"), "to: [receiving_party]")


def test_a_partys_notice_is_copied_to_our_own_people_only(tmp_path: Path) -> None:
    text = SIDED.replace("    copy: [owner]", "    copy: [owner, provider]")
    assert_rejected(tmp_path, text, line_of(text, "copy: [owner, provider]"), "(owner) only")


def test_expected_by_and_received_as_name_what_the_rulebook_declares(tmp_path: Path) -> None:
    text = SIDED.replace("expected_by: due", "expected_by: dew")
    assert_rejected(tmp_path, text, line_of(text, "expected_by: dew"), "undeclared deadline 'dew'")
    text = SIDED.replace("received_as: settled", "received_as: setled")
    assert_rejected(
        tmp_path / "2", text, line_of(text, "received_as: setled"), "recordable fact 'setled'"
    )


def test_the_notifying_party_needs_a_given_by_fact(tmp_path: Path) -> None:
    text = SIDED.replace("  given_by: {type: party", "  who: {type: party")
    assert_rejected(tmp_path, text, line_of(text, "sender: notifying_party"), "given_by")


def test_sender_parties_resolve_through_given_by(tmp_path: Path) -> None:
    hello = sided(tmp_path).notices["hello"]
    assert sender_party(hello, {"given_by": "provider"}) == "provider"
    assert whose(hello, "customer", {"given_by": "provider"}) == "theirs"
    assert whose(hello, "customer", {"given_by": "customer"}) == "ours"
    assert whose(sided(tmp_path / "2").notices["bye"], "provider", {}) == "internal"
    with pytest.raises(UnknownSender):
        sender_party(hello, {})


def test_the_rules_see_our_side_and_whether_we_gave_notice(tmp_path: Path) -> None:
    rb = sided(tmp_path)
    assert side_facts(rb, terms("provider"), {"given_by": "provider"}) == {
        "our_side": "provider",
        "given_by_us": True,
    }
    assert side_facts(rb, terms(), {}) == {"our_side": "customer"}
    # A rulebook written before senders sees nothing new: its cases decide as before.
    old = load_rulebook(write_rulebook(tmp_path / "old", VALID))
    assert side_facts(old, terms(), {"given_by": "customer"}) == {}


def test_the_other_partys_notice_is_expected_and_ours_sent(tmp_path: Path) -> None:
    rb = sided(tmp_path)
    decided = [
        Decision("start", "transition", "running", 0),
        Decision("start", "send_notice", "hello", 0),
        Decision("finish", "send_notice", "bye", 2),
    ]
    theirs = sort_decisions(rb, terms(), {"given_by": "provider"}, decided)
    assert [(d.action, d.value) for d in theirs] == [
        ("transition", "running"),
        ("expect_notice", "hello"),
        ("send_notice", "bye"),
    ]
    ours = sort_decisions(rb, terms(), {"given_by": "customer"}, decided)
    assert [d.action for d in ours] == ["transition", "send_notice", "send_notice"]
    # The same case seen by the Provider: the hello is now ours to give.
    flipped = sort_decisions(rb, terms("provider"), {"given_by": "provider"}, decided)
    assert [d.action for d in flipped] == ["transition", "send_notice", "send_notice"]


def test_the_other_partys_notice_is_never_rendered(tmp_path: Path) -> None:
    rb = sided(tmp_path)
    request = NoticeRequest(
        case_id="case_x",
        notice="hello",
        state="running",
        at=dt.datetime.now(dt.UTC),
        facts={"given_by": "provider"},
    )
    with pytest.raises(RenderError, match="other party's to give"):
        render_notice(rb, terms(), request)


def test_the_newest_version_of_a_clause_must_say_whose_each_notice_is(tmp_path: Path) -> None:
    write_rulebook(tmp_path, VALID)
    strict = RulebookRegistry(require_senders=True)
    with pytest.raises(RulebookError, match="newest version and its notices do not say"):
        strict.load(tmp_path / "clauses")
    # Once a newer version declares senders, the older one keeps loading (and running).
    write_rulebook(tmp_path, SIDED.replace("version: 1", "version: 2"), name="rulebook.v2.yaml")
    loaded = RulebookRegistry(require_senders=True).load(tmp_path / "clauses")
    assert [(r.version, r.declares_senders) for r in loaded] == [(1, False), (2, True)]
