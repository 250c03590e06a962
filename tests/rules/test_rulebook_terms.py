"""The term sheet the rulebooks declare: each parameter's type, default and heading, and
the cases that start with the contract."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from rules.rulebook import RulebookError, RulebookRegistry, default_registry, load_rulebook
from workers.seed import reference_term_sheet

# A rulebook of a clause the MSA does not have, with figures of its own.
AUDIT = """\
clause: audit_right
terms: {heading: audit, section: "5"}
version: 1
summary: The Customer may audit on notice.
section: "§5"
title: Audit right
parameters:
  notice_days: {type: days, default: 10, label: Days of notice before an audit}
  reminders: {type: day_list, default: [2, 5], label: Reminder days}
  fee_cap: {type: percent, default: "5", at_least: 0, at_most: 100, label: Cap}
  surviving_sections:
    term: surviving_sections
    type: text_list
    default: ["4", "6", "7", "9", "11"]
    label: Survive
facts:
  asked_on: {type: date, required: true, label: Asked on}
states:
  open: {label: Open}
  done: {label: Done, terminal: true}
rules:
  - name: start
    when: {event: case_started}
    then:
      - transition: open
"""


def write(root: Path, text: str, clause: str = "audit_right", version: int = 1) -> Path:
    folder = root / clause
    (folder / "notices").mkdir(parents=True, exist_ok=True)
    path = folder / f"rulebook.v{version}.yaml"
    path.write_text(text.replace("clause: audit_right", f"clause: {clause}"), encoding="utf-8")
    return path


def registry_of(root: Path) -> RulebookRegistry:
    registry = RulebookRegistry()
    registry.load(root)
    return registry


def test_a_rulebooks_figures_become_a_heading_of_the_term_sheet(tmp_path: Path) -> None:
    write(tmp_path, AUDIT)
    model = registry_of(tmp_path).term_sheet_model()
    base = reference_term_sheet().model_dump(mode="json")
    terms = model.model_validate({**base, "clauses": {}})
    audit = terms.parameter("clauses.audit")
    assert (audit.section, audit.notice_days, audit.fee_cap) == ("5", 10, Decimal("5"))
    # A list of days is kept latest first, as the deadlines expect.
    assert audit.reminders == [5, 2]
    # A heading no rulebook declares is refused, by name.
    with pytest.raises(ValidationError) as info:
        model.model_validate({**base, "clauses": {"payment": {"payment_days": 5}}})
    assert info.value.errors()[0]["loc"] == ("clauses", "payment")
    assert terms.parameter("clauses.surviving_sections") == ["4", "6", "7", "9", "11"]
    schema = model.model_json_schema()["$defs"]["AuditTerms"]["properties"]
    assert schema["notice_days"]["exclusiveMinimum"] == 0
    assert schema["notice_days"]["description"] == "Days of notice before an audit"


def test_a_term_sheet_overrides_a_declared_figure_and_bad_ones_name_their_field(
    tmp_path: Path,
) -> None:
    write(tmp_path, AUDIT)
    model = registry_of(tmp_path).term_sheet_model()
    base = reference_term_sheet().model_dump(mode="json")
    ours = model.model_validate({**base, "clauses": {"audit": {"notice_days": 20}}})
    assert ours.parameter("clauses.audit.notice_days") == 20
    for bad, field in (
        ({"notice_days": 0}, "notice_days"),
        ({"reminders": [3, -1]}, "reminders"),
        ({"fee_cap": "101"}, "fee_cap"),
        ({"unknown": 1}, "unknown"),
    ):
        with pytest.raises(ValidationError) as info:
            model.model_validate({**base, "clauses": {"audit": bad}})
        assert info.value.errors()[0]["loc"][:3] == ("clauses", "audit", field)


def test_a_term_sheet_stored_before_a_figure_was_declared_gets_its_default() -> None:
    stored = reference_term_sheet().model_dump(mode="json")
    del stored["clauses"]["security_breach"]
    del stored["clauses"]["payment"]["payment_days"]
    terms = default_registry().complete_terms(stored)
    assert terms.parameter("clauses.security_breach.notify_within_hours") == 72
    assert terms.parameter("clauses.payment.payment_days") == 30
    # And a rulebook reads its declared default even from the raw stored sheet.
    rb = default_registry().latest("security_breach")
    assert rb.parameter_values(reference_term_sheet().model_validate(stored)) == {
        "notify_within_hours": 72
    }


def test_the_reference_msa_figures_are_declared_by_the_rulebooks() -> None:
    terms = reference_term_sheet()
    assert terms.parameter("clauses.termination_for_convenience.notice_period_days") == 90
    assert terms.parameter("clauses.termination_for_cause.cure_period_days") == 30
    assert terms.parameter("clauses.payment.dispute_window_days") == 10
    assert terms.parameter("clauses.payment.late_interest_percent_per_month") == Decimal("1")
    assert terms.parameter("clauses.term.term_years") == 3
    assert terms.parameter("clauses.service_levels.uptime_target_percent") == Decimal("99.9")
    assert terms.parameter("clauses.acceptable_use.exhibit") == "C"
    model = default_registry().term_sheet_model()
    names = model.model_json_schema()["$defs"]
    assert {"PaymentTerms", "ServiceLevelTerms", "TermOfAgreement", "ClauseTerms"} <= set(names)


def test_two_rulebooks_that_declare_a_shared_figure_differently_are_refused(
    tmp_path: Path,
) -> None:
    write(tmp_path, AUDIT)
    other = AUDIT.replace("default: 10,", "default: 11,")
    path = write(tmp_path, other, clause="later_audit")
    with pytest.raises(RulebookError) as info:
        registry_of(tmp_path)
    assert info.value.file == path.resolve()
    assert "figure 'audit.notice_days' is declared differently by audit_right v1" in str(info.value)


def test_rulebooks_that_share_a_heading_declare_it_alike(tmp_path: Path) -> None:
    write(tmp_path, AUDIT)
    write(tmp_path, AUDIT.replace('section: "5"}', 'section: "6"}'), clause="later_audit")
    with pytest.raises(RulebookError, match="heading 'audit' is declared differently"):
        registry_of(tmp_path)


@pytest.mark.parametrize(
    ("declaration", "reason"),
    [
        ("{type: days, default: 0, label: X}", "the default 0 is not a days"),
        ("{type: percent, default: oops, label: X}", "the default 'oops' is not a percent"),
        ("{type: days, default: 1, label: X, term: a.b.c}", "a term is a figure under"),
    ],
)
def test_a_declared_parameter_must_fit_its_type(
    tmp_path: Path, declaration: str, reason: str
) -> None:
    text = AUDIT.replace(
        "{type: days, default: 10, label: Days of notice before an audit}", declaration
    )
    with pytest.raises(RulebookError, match=reason) as info:
        load_rulebook(write(tmp_path, text), check_templates=False)
    assert info.value.line == text.splitlines().index(f"  notice_days: {declaration}") + 1


def test_a_path_parameter_must_name_a_declared_figure(tmp_path: Path) -> None:
    text = AUDIT.replace(
        "  notice_days: {type: days, default: 10, label: Days of notice before an audit}",
        "  notice_days: clauses.audit.notice_days\n  period: clauses.payment.payment_days",
    )
    with pytest.raises(RulebookError, match=r"the term sheet has no 'clauses\.audit\.notice_days'"):
        load_rulebook(write(tmp_path, text), check_templates=False)


STANDING = AUDIT + "starts_with_contract:\n  facts: {asked_on: current_month}\n"


def test_a_case_that_starts_with_the_contract_gets_its_facts_from_it(tmp_path: Path) -> None:
    rb = load_rulebook(write(tmp_path, STANDING), check_templates=False)
    assert rb.facts_at_registration(dt.date(2030, 1, 15), dt.date(2031, 6, 20)) == {
        "asked_on": "2031-06-01"
    }
    # A contract not yet in effect starts with its effective date's month.
    assert rb.facts_at_registration(dt.date(2031, 9, 15), dt.date(2031, 6, 20)) == {
        "asked_on": "2031-09-01"
    }
    effective = STANDING.replace("current_month", "effective_date")
    rb = load_rulebook(write(tmp_path, effective, clause="audit_b"), check_templates=False)
    assert rb.facts_at_registration(dt.date(2031, 9, 15), dt.date(2031, 6, 20)) == {
        "asked_on": "2031-09-15"
    }


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (
            STANDING.replace("{asked_on: current_month}", "{nothing: current_month}"),
            "'nothing' must be a date start fact",
        ),
        (
            STANDING.replace(
                "  asked_on: {type: date, required: true, label: Asked on}",
                "  asked_on: {type: date, required: true, label: Asked on}\n"
                "  who: {type: party, required: true, label: Who}",
            ),
            "required start facts ['who'] would be missing",
        ),
    ],
)
def test_a_case_that_starts_with_the_contract_must_be_able_to_start(
    tmp_path: Path, text: str, reason: str
) -> None:
    with pytest.raises(RulebookError, match=reason.replace("[", r"\[").replace("]", r"\]")):
        load_rulebook(write(tmp_path, text), check_templates=False)


def test_the_monthly_review_and_the_term_are_the_msas_cases_that_start_with_the_contract() -> None:
    registry = default_registry()
    standing = [c for c in registry.clauses() if registry.latest(c).starts_with_contract]
    assert standing == ["monthly_sla_review", "term_expiry"]
    term = registry.latest("term_expiry")
    assert term.facts_at_registration(dt.date(2026, 1, 1), dt.date(2026, 12, 7)) == {
        "effective_date": "2026-01-01"
    }


def test_a_rulebook_whose_figures_live_elsewhere_adds_no_heading_of_its_own(
    tmp_path: Path,
) -> None:
    write(tmp_path, AUDIT)
    only_shared = AUDIT.replace('terms: {heading: audit, section: "5"}\n', "")
    start = only_shared.index("  notice_days:")
    end = only_shared.index("  surviving_sections:")
    write(tmp_path, only_shared[:start] + only_shared[end:], clause="later_audit")
    schemas = registry_of(tmp_path).term_sheet_model().model_json_schema()["$defs"]
    assert "LaterAuditTerms" not in schemas
    assert set(schemas["ClauseTerms"]["properties"]) == {"audit", "surviving_sections"}


def test_a_stored_term_sheet_is_checked_once_and_shared_for_reading() -> None:
    from rules.rulebook import default_registry
    from workers.seed import reference_term_sheet

    registry = default_registry()
    stored = reference_term_sheet().model_dump(mode="json")
    first = registry.terms_to_read(stored)
    assert registry.terms_to_read(dict(stored)) is first  # same content, same sheet
    other = {**stored, "reference": "MSA-OTHER"}
    assert registry.terms_to_read(other).reference == "MSA-OTHER"
    # A caller who changes its term sheet completes its own.
    own = registry.complete_terms(stored)
    assert own is not first and own == first
