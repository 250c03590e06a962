"""A term sheet proposed from an agreement's own text (issue 16, part 1): the reference
MSA gives back every figure of the reference term sheet it states, each with its section
and exact sentence; variants give their own; a figure not stated is listed as missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from rules import proposal
from rules.proposal import TextDeclarationError, deviations, governing_law, propose, sought
from rules.rulebook import default_registry
from tests.conftest import shared_path
from workers.seed import reference_term_sheet

#: Figures of the reference term sheet that the MSA leaves to the parties (it says
#: "promptly", "the cure periods specified herein", "prior written notice"): Clauseflow's
#: reference values are choices, so a proposal must ask for them.
NOT_IN_THE_MSA = {
    "clauses.acceptable_use.cure_period_days",
    "clauses.security_breach.notify_within_hours",
    "clauses.sla_audit.audit_notice_business_days",
}


def _msa() -> str:
    return shared_path("MSA.txt").read_text()


def _value_at(terms: dict, path: str) -> object:
    node: object = terms
    for part in path.split("."):
        assert isinstance(node, dict)
        node = node[part]
    return node


def test_the_reference_msa_gives_back_the_reference_term_sheet_with_each_sentence() -> None:
    text = _msa()
    found = propose(text)
    terms = reference_term_sheet().model_dump(mode="json")
    assert {m.path for m in found.missing} == NOT_IN_THE_MSA
    assert len(found.figures) == 15
    for f in found.figures:
        expected = _value_at(terms, f.path)
        assert str(f.value) == str(expected), f.path
        assert f.unsure is None, (f.path, f.unsure)
        assert text[f.sentence_start : f.sentence_end] == f.sentence
        assert text[f.start : f.end] == f.written
        assert f.sentence_start <= f.start < f.end <= f.sentence_end
    by_path = {f.path: f for f in found.figures}
    notice = by_path["clauses.termination_for_convenience.notice_period_days"]
    assert (notice.part, notice.written) == ("§10", "ninety (90) days")
    assert by_path["clauses.service_levels.uptime_target_percent"].part == "Exhibit A.1"
    law = governing_law(text)
    assert law is not None and (law.value, law.part) == ("State of New York", "§14")


def test_a_variant_gives_its_own_figures_in_words_or_numerals() -> None:
    text = (
        _msa()
        .replace("ninety (90) days' prior written notice", "sixty days' prior written notice")
        .replace(
            "fails to cure such breach within thirty (30) days",
            "fails to cure such breach within fifteen (15) days",
        )
        .replace("ninety-nine point nine percent (99.9%)", "ninety-nine point five percent (99.5%)")
        .replace("Sections 4, 6, 7, 9, and 11", "Sections 4, 6, 7 and 9")
        .replace("laws of the State of New York", "laws of the State of Delaware")
    )
    by_path = {f.path: f.value for f in propose(text).figures}
    assert by_path["clauses.termination_for_convenience.notice_period_days"] == 60
    assert by_path["clauses.termination_for_cause.cure_period_days"] == 15
    assert by_path["clauses.service_levels.uptime_target_percent"] == "99.5"
    assert by_path["clauses.surviving_sections"] == ["4", "6", "7", "9"]
    law = governing_law(text)
    assert law is not None and law.value == "State of Delaware"


def test_a_figure_the_text_does_not_state_is_missing_never_defaulted() -> None:
    text = _msa().replace(
        "Either party may terminate this Agreement for convenience upon ninety (90) days' "
        "prior written notice to the other party. ",
        "",
    )
    found = propose(text)
    (missing,) = [
        m
        for m in found.missing
        if m.path == "clauses.termination_for_convenience.notice_period_days"
    ]
    assert missing.why == 'no day figure in a sentence with "convenience"'
    assert "clauses.termination_for_convenience.notice_period_days" not in {
        f.path for f in found.figures
    }


def test_words_and_numerals_that_disagree_are_proposed_as_unsure() -> None:
    text = _msa().replace("ninety (90) days' prior", "ninety (60) days' prior")
    (notice,) = [
        f
        for f in propose(text).figures
        if f.path == "clauses.termination_for_convenience.notice_period_days"
    ]
    assert notice.value == 90
    assert notice.unsure == "the words say 90 and the numeral says 60"


def test_a_declaration_must_name_a_figure_its_clause_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "invoice_payment"
    folder.mkdir()
    (folder / "text.yaml").write_text("figures:\n  no_such_figure: {unit: day}\n")
    monkeypatch.setattr(proposal, "CLAUSES_DIR", tmp_path)
    with pytest.raises(TextDeclarationError, match="no_such_figure is not a figure"):
        sought(default_registry())
    (folder / "text.yaml").write_text("figures:\n  payment_days: {unit: hour}\n")
    with pytest.raises(TextDeclarationError, match="is not in hours"):
        sought(default_registry())


def test_deviations_from_the_standard_are_named_with_their_section() -> None:
    standard = reference_term_sheet().model_dump(mode="json")
    same = propose(_msa())
    assert deviations(same.figures, standard) == []
    text = (
        _msa()
        .replace(
            "fails to cure such breach within thirty (30) days",
            "fails to cure such breach within fifteen (15) days",
        )
        .replace("laws of the State of New York", "laws of the State of Delaware")
    )
    law = governing_law(text)
    assert law is not None
    found = deviations([*propose(text).figures, law], standard)
    assert [d.text for d in found] == [
        "Days the party in breach has to cure it, from receipt of the notice: 15 "
        "(your standard: 30), §10",
        "The law that governs the agreement: State of Delaware (your standard: State of "
        "New York), §14",
    ]
