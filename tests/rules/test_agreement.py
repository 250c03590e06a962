"""The agreement as a whole, as rulebooks declare it: what a case emits by state (checked
against what the rulebook declares), and what a clause does when the agreement ends."""

from __future__ import annotations

from pathlib import Path

import pytest

from rules.agreement import reaction_to_end, surviving_sections
from rules.rulebook import RulebookError, default_registry
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
            "an agreement event is agreement_terminating, agreement_ended or termination_withdrawn",
        ),
        (
            "agreement:\n  when_agreement_ends: close\n",
            "when_agreement_ends is close_unless_surviving or carry_on",
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
            registry.latest(clause), MSA_SURVIVING, "Mon 1 Mar 2038", "convenience"
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
    assert reaction_to_end(rb, ["3"], "Mon 1 Mar 2038", "expiry").action == "carry_on"
    assert reaction_to_end(rb, [], "Mon 1 Mar 2038", "expiry").reason.endswith(
        "(surviving: none), so this case closes."
    )
    sheet = reference_term_sheet().model_dump(mode="json")
    assert surviving_sections(sheet) == MSA_SURVIVING
    sheet["clauses"]["surviving_sections"] = ["3", "4"]
    assert surviving_sections(sheet) == ["3", "4"]
