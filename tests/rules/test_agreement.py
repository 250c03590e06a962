"""The agreement as a whole, as rulebooks declare it: what a case emits by state (checked
against what the rulebook declares), and what a clause does when the agreement ends."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from rules.agreement import reaction_to_end, surviving_sections
from rules.rulebook import RulebookError, default_registry
from rules.rulebook.checks.agreement import check_reactions_across
from tests.rules.helpers import load_demo
from tests.rules.test_fact_checks import RULEBOOK
from workers.seed import reference_term_sheet

MSA_SURVIVING = ["4", "6", "7", "9", "11"]


def _with(agreement: str) -> str:
    return RULEBOOK.replace("states:\n", agreement + "states:\n", 1)


@pytest.mark.parametrize(
    ("agreement", "message"),
    [
        (
            "agreement:\n  emits:\n    finished: {event: agreement_ended, route: expiry}\n",
            "emitted by state 'finished', which is not declared",
        ),
        (
            "agreement:\n  emits:\n    done: {event: agreement_ended}\n",
            "agreement_ended must say its route",
        ),
        (
            "agreement:\n  emits:\n    done: {event: agreement_ended, route: expiry,"
            " dated_by: expiry}\n",
            "dated by deadline 'expiry', which is not declared",
        ),
        (
            "agreement:\n  emits:\n    done: {event: agreement_over, route: expiry}\n",
            "agreement_over does not end the agreement, so it takes no route",
        ),
        (
            "agreement:\n  emits:\n    done: {event: settled, values: {paid_on: paid_at}}\n",
            "settled's paid_on comes from 'paid_at', which is not a fact",
        ),
        (
            "agreement:\n  when_agreement_ends: close\n",
            "when_agreement_ends is close_unless_surviving, carry_on, or a fact to record",
        ),
        (
            "agreement:\n  reacts:\n    window: {record: setled}\n",
            "'setled' is not a recordable fact of this rulebook \\(did you mean 'settled'",
        ),
        (
            "agreement:\n  reacts:\n    agreement_ended: {record: settled}\n",
            "what a case does at the end is when_agreement_ends",
        ),
        (
            "agreement:\n  when_agreement_ends: {record: settled, values: {settled_at: route}}\n",
            "settled needs settled_on: give each a value from end_date, route",
        ),
        (
            "agreement:\n  when_agreement_ends: {record: settled, values: {settled_on: today}}\n",
            "at the end the contract tells end_date, route, ends_at, not 'today'",
        ),
    ],
)
def test_the_checker_refuses_an_agreement_block_that_names_what_is_not_there(
    tmp_path: Path, agreement: str, message: str
) -> None:
    with pytest.raises(RulebookError, match=message):
        load_demo(tmp_path, "checks_demo", _with(agreement))


def test_a_declared_emission_loads_and_a_withdrawal_needs_no_route(tmp_path: Path) -> None:
    rb = load_demo(
        tmp_path,
        "checks_demo",
        _with(
            "agreement:\n  emits:\n"
            "    running: {event: agreement_terminating, route: convenience}\n"
            "    done: {event: termination_withdrawn}\n"
        ),
    )
    assert rb.agreement.emits["done"].event == "termination_withdrawn"
    assert rb.agreement.when_agreement_ends == "close_unless_surviving"


def test_a_clause_survives_by_its_section_numbers() -> None:
    registry = default_registry()
    cases = {
        clause: reaction_to_end(
            registry.latest(clause), MSA_SURVIVING, dt.date(2038, 3, 1), "convenience"
        )
        for clause in registry.clauses()
    }
    carry_on = {c for c, r in cases.items() if r.action == "carry_on"}
    # §4 indemnities and §6 data protection survive; termination's own case carries on
    # (its rulebook says so); the SLA's exhibits and every other section close.
    assert carry_on == {"indemnity_claim", "security_breach", "termination_for_convenience"}
    invoice = cases["invoice_payment"]
    assert invoice.reason == (
        "The agreement terminated for convenience on Mon 1 Mar 2038; §3 does not survive the"
        " end (surviving: §4, §6, §7, §9, §11), so this case closes."
    )
    assert "§4 survives the end (§10)" in cases["indemnity_claim"].reason


def test_a_sub_section_survives_with_its_section_and_a_term_sheet_chooses_its_own() -> None:
    rb = default_registry().latest("invoice_payment")
    assert reaction_to_end(rb, ["3"], dt.date(2038, 3, 1), "expiry").action == "carry_on"
    assert reaction_to_end(rb, [], dt.date(2038, 3, 1), "expiry").reason.endswith(
        "(surviving: none), so this case closes."
    )
    sheet = reference_term_sheet().model_dump(mode="json")
    assert surviving_sections(sheet) == MSA_SURVIVING
    sheet["clauses"]["surviving_sections"] = ["3", "4"]
    assert surviving_sections(sheet) == ["3", "4"]


def _pair(tmp_path: Path, emits: str, reacts: str) -> list[Any]:
    emitter = load_demo(
        tmp_path,
        "emitter_demo",
        _with(f"agreement:\n  emits:\n    done: {emits}\n").replace(
            "clause: checks_demo", "clause: emitter_demo"
        ),
    )
    reactor = load_demo(tmp_path, "checks_demo", _with(f"agreement:\n  reacts:\n{reacts}"))
    return [emitter, reactor]


def test_what_one_case_tells_another_can_record(tmp_path: Path) -> None:
    ok = _pair(
        tmp_path,
        "{event: settled_elsewhere, values: {settled_on: starts_on}}",
        "    settled_elsewhere: {record: settled}\n",
    )
    check_reactions_across(ok)
    for emits, reacts, message in [
        (
            "{event: settled_elsewhere}",
            "    settled_somewhere: {record: settled}\n",
            "reacts to settled_somewhere, which no rulebook emits",
        ),
        (
            "{event: settled_elsewhere, values: {paid: amount}}",
            "    settled_elsewhere: {record: settled}\n",
            "emits settled_elsewhere, which gives no settled_on",
        ),
        (
            "{event: settled_elsewhere, values: {settled_on: starts_on, rate: rate}}",
            "    settled_elsewhere: {record: settled}\n",
            "gives rate, not a field of it",
        ),
    ]:
        with pytest.raises(RulebookError, match=message):
            check_reactions_across(_pair(tmp_path, emits, reacts))


def test_the_shipped_rulebooks_react_only_to_what_is_emitted() -> None:
    # Loading checks it; the maintenance window and the review are the first pair.
    registry = default_registry()
    check_reactions_across(registry.all())
    review = registry.latest("monthly_sla_review").agreement
    assert review.reacts["maintenance_window_excluded"].record == "maintenance_window_recorded"


@pytest.mark.parametrize(
    ("opens", "message"),
    [
        (
            "    window: {facts: {received_at: '{event_at}', when: x}}\n",
            "'when' is not a start fact of this rulebook",
        ),
        (
            "    window: {facts: {starts_on: '{event_at}'}}\n",
            "opening a case on window needs received_at",
        ),
        (
            "    window: {only_if: rate, facts: {received_at: '{event_at}'}}\n",
            "only_if names 'rate', which is not a yes_no parameter",
        ),
    ],
)
def test_the_checker_refuses_a_case_opened_without_its_start_facts(
    tmp_path: Path, opens: str, message: str
) -> None:
    with pytest.raises(RulebookError, match=message):
        load_demo(tmp_path, "checks_demo", _with(f"agreement:\n  opens:\n{opens}"))


def test_a_case_opened_on_an_event_takes_only_what_the_event_tells(tmp_path: Path) -> None:
    templates = tmp_path / "clauses" / "emitter_demo" / "notices"
    templates.mkdir(parents=True)
    for kind in ("txt", "html"):
        (templates / f"done_notice.{kind}.j2").write_text("Done.")
    emitter = load_demo(
        tmp_path,
        "emitter_demo",
        _with(
            "notices:\n  done_notice: {subject: Done, to: [owner], sender: internal}\n"
            "agreement:\n  emits_with_notice:\n"
            "    done_notice: {event: window, values: {day: starts_on}}\n"
        ).replace("clause: checks_demo", "clause: emitter_demo"),
    )
    opens = (
        "agreement:\n  opens:\n"
        "    window: {facts: {received_at: '{event_at}', starts_on: '{%s}'}}\n"
    )
    told = load_demo(tmp_path, "checks_demo", _with(opens % "day"))
    check_reactions_across([emitter, told])
    untold = load_demo(tmp_path, "checks_demo", _with(opens % "night"))
    with pytest.raises(RulebookError, match="starts_on from night, which emitter_demo v1 does not"):
        check_reactions_across([emitter, untold])
