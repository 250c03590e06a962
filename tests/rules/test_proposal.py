"""A term sheet proposed from an agreement's own text (issue 16, part 1): the reference
MSA gives back every figure of the reference term sheet it states, each with its section
and exact sentence; variants give their own (parties, effective date, fees, notice
addresses, time zone, renumbered sections, another law); a figure not stated, or left
blank, is listed as missing.

Every date here is written in an agreement's text and read by pure parsing: none is
compared with today, and the only bound a date is checked against is the fixed range
of contracts/limits.py (1970 to 2200), so no test here depends on the day it runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from rules.proposal import (
    Found,
    Proposal,
    TextDeclarationError,
    deviations,
    governing_law,
    propose,
    read_agreement,
    sought,
)
from rules.proposal import figures as proposal_figures
from rules.rulebook import default_registry
from rules.rulebook.terms import declarations
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
    # 15 periods, percentages and lists; 13 sections and exhibits of the clauses.
    assert len(found.figures) == 28
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
    section = by_path["clauses.termination_for_convenience.section"]
    assert (section.value, section.written, section.sentence) == (
        "10",
        "10. Term and Termination",
        "**10. Term and Termination.**",
    )
    payment = by_path["clauses.payment.exhibit"]
    assert (payment.value, payment.part, payment.written) == (
        "B.4",
        "Exhibit B.4",
        "4. Payment Terms",
    )
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
    monkeypatch.setattr(proposal_figures, "CLAUSES_DIR", tmp_path)
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


def test_a_section_or_exhibit_must_be_one_the_clauses_heading_has(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(proposal_figures, "CLAUSES_DIR", tmp_path)
    (tmp_path / "incident_response").mkdir()
    declared = tmp_path / "incident_response" / "text.yaml"
    declared.write_text("section: {heading: [Service Levels]}\n")  # Exhibit A has no section
    with pytest.raises(TextDeclarationError, match="heading has no section"):
        sought(default_registry())
    (tmp_path / "invoice_payment").mkdir()
    declared.unlink()
    # Its exhibit is B.4, an item of Exhibit B: the declaration must say which item.
    (tmp_path / "invoice_payment" / "text.yaml").write_text("exhibit: {heading: [Fees]}\n")
    with pytest.raises(TextDeclarationError, match=r"the exhibit is B\.4"):
        sought(default_registry())
    # Clauses that share a heading find it alike.
    (tmp_path / "invoice_payment" / "text.yaml").unlink()
    for clause, words in (("incident_response", "SLA"), ("monthly_sla_review", "Uptime")):
        (tmp_path / clause).mkdir(exist_ok=True)
        (tmp_path / clause / "text.yaml").write_text(f"exhibit: {{heading: [{words}]}}\n")
    with pytest.raises(TextDeclarationError, match="declared differently by incident_response"):
        sought(default_registry())


def test_every_section_and_exhibit_a_rulebook_names_is_read_from_its_heading() -> None:
    # A clause's section numbers come from the text, never from the reference MSA's.
    decl = declarations(default_registry().all())
    named = {
        f"clauses.{heading}.{kind}"
        for heading, h in decl.headings.items()
        for kind in ("section", "exhibit")
        if getattr(h.declared, kind) is not None
    }
    assert named <= {s.path for s in sought(default_registry())}


# -- read_agreement: everything a term sheet needs ---------------------------------------

#: A notices section the MSA does not have, as an agreement on this form might state it.
NOTICES = (
    "**15. Notices.** All notices under this Agreement shall be in writing and sent by "
    "email. Notices to Customer shall be sent to legal@acme.example.com, with a copy to "
    "contracts@acme.example.com, Attention: General Counsel. Notices to Provider shall be "
    "sent to notices@beta.example.com (Attention: Head of Legal), with copies to "
    "legal@beta.example.com and ops@beta.example.com. A notice received after 5:00 p.m. "
    "Eastern Time is received on the next business day.\n\n"
)


def _filled() -> str:
    """The MSA with its blanks filled in, a notices section, §10 and §12 swapped, Exhibit
    B lettered E, and Delaware law."""
    return (
        _msa()
        .replace("[Name of Large U.S.-Based Enterprise]", "Acme Corp")
        .replace("[Name of CPaaS/IT Vendor]", "Beta Communications LLC")
        .replace("**Effective Date:** __________", "**Effective Date:** the 1st day of March, 2027")
        .replace("a monthly fee of $__________", "a monthly fee of $25,000.00")
        .replace("$__________ per gigabyte", "$0.05 per gigabyte")
        .replace("$__________ per hour", "$180 per hour")
        .replace("[PAGE BREAK]\n\n**SIGNATURE BLOCK**", NOTICES + "**SIGNATURE BLOCK**")
        .replace("**10. Term and Termination.**", "**TWELVE. Term and Termination.**")
        .replace("**12. Emergency Call Disclaimers.**", "**10. Emergency Call Disclaimers.**")
        .replace("**TWELVE. Term and Termination.**", "**12. Term and Termination.**")
        .replace("EXHIBIT B: FEE SCHEDULE", "EXHIBIT E: FEE SCHEDULE")
        .replace("laws of the State of New York", "laws of the State of Delaware")
    )


def _each_with_its_sentence(text: str, proposal: Proposal) -> dict[str, Found]:
    for f in proposal.figures:
        assert text[f.start : f.end] == f.written, f.path
        assert text[f.sentence_start : f.sentence_end] == f.sentence, f.path
        assert f.sentence_start <= f.start < f.end <= f.sentence_end, f.path
    by_path = {f.path: f for f in proposal.figures}
    assert len(by_path) == len(proposal.figures)  # each path once
    assert not set(by_path) & {m.path for m in proposal.missing}
    return by_path


def test_the_reference_msa_leaves_the_parties_date_and_fees_blank_and_names_no_time_zone() -> None:
    text = _msa()
    found = read_agreement(text)
    by_path = _each_with_its_sentence(text, found)
    why = {m.path: m.why for m in found.missing}
    assert why == {
        "customer.name": 'left blank in the text: "[Name of Large U.S.-Based Enterprise]" on '
        'the "Customer:" line (at the head of the agreement)',
        "provider.name": 'left blank in the text: "[Name of CPaaS/IT Vendor]" on the '
        '"Provider:" line (at the head of the agreement)',
        "customer.notice_email": "no sentence says notices to the Customer go to an email "
        'address ("to Customer")',
        "provider.notice_email": "no sentence says notices to the Provider go to an email "
        'address ("to Provider")',
        "effective_date": 'left blank in the text: "Effective Date: __________" (at the head '
        "of the agreement)",
        "fees.monthly_fee": 'left blank in the text: "$__________" (Exhibit B.1)',
        "fees.usage_fee_per_gb": 'left blank in the text: "$__________" (Exhibit B.2)',
        "fees.additional_services_hourly": 'left blank in the text: "$__________" (Exhibit B.3)',
        "time_zone": 'no sentence names a time zone ("New York time", "Eastern Time", "London '
        'time", "Pacific Time", ...)',
        **{path: why[path] for path in NOT_IN_THE_MSA},
    }
    # What it states is the reference term sheet's, the currency of its blank fees too.
    terms = reference_term_sheet().model_dump(mode="json")
    for path, f in by_path.items():
        assert str(f.value) == str(_value_at(terms, path)), path
    assert (by_path["currency"].value, by_path["currency"].written) == ("USD", "$")
    assert by_path["governing_law"].value == "State of New York"


def test_a_filled_in_agreement_gives_its_own_parties_date_fees_notices_and_numbers() -> None:
    text = _filled()
    by_path = _each_with_its_sentence(text, read_agreement(text))
    values = {path: f.value for path, f in by_path.items()}
    assert {k: v for k, v in values.items() if not k.startswith("clauses.")} == {
        "customer.name": "Acme Corp",
        "customer.notice_email": "legal@acme.example.com",
        "customer.copy_to": ["contracts@acme.example.com"],
        "customer.attention": "General Counsel",
        "provider.name": "Beta Communications LLC",
        "provider.notice_email": "notices@beta.example.com",
        "provider.copy_to": ["legal@beta.example.com", "ops@beta.example.com"],
        "provider.attention": "Head of Legal",
        "effective_date": "2027-03-01",
        "fees.monthly_fee": "25000.00",
        "fees.usage_fee_per_gb": "0.0500",
        "fees.additional_services_hourly": "180.00",
        "currency": "USD",
        "governing_law": "State of Delaware",
        "time_zone": "America/New_York",
    }
    customer = by_path["customer.name"]
    assert (customer.part, customer.sentence) == (None, "**Customer:** Acme Corp")
    email = by_path["provider.notice_email"]
    assert email.part == "§15" and email.sentence.startswith("Notices to Provider shall be")
    assert by_path["time_zone"].sentence == (
        "A notice received after 5:00 p.m. Eastern Time is received on the next business day."
    )
    assert by_path["fees.monthly_fee"].written == "$25,000.00"
    assert by_path["fees.monthly_fee"].part == "Exhibit E.1"
    assert by_path["effective_date"].written == "the 1st day of March, 2027"
    # Renumbered: each clause's section and exhibit are the agreement's own.
    assert values["clauses.termination_for_convenience.section"] == "12"
    assert values["clauses.term.section"] == "12"
    assert values["clauses.payment.exhibit"] == "E.4"
    assert by_path["clauses.termination_for_convenience.notice_period_days"].part == "§12"
    assert values["clauses.indemnity.section"] == "4"


def test_the_figures_accepted_as_they_are_make_a_term_sheet() -> None:
    # The console builds a term sheet from each Found's path and value: they must be a
    # term sheet's paths and values as it takes them.
    terms: dict = {"owner": {"name": "Ann Owner", "email": "ann@acme.example.com"}}
    for f in read_agreement(_filled()).figures:
        node = terms
        *heads, last = f.path.split(".")
        for head in heads:
            node = node.setdefault(head, {})
        node[last] = f.value
    sheet = default_registry().complete_terms(terms)
    assert sheet.customer.copy_to == ["contracts@acme.example.com"]
    assert str(sheet.fees.usage_fee_per_gb) == "0.0500"
    assert sheet.effective_date.isoformat() == "2027-03-01"
    assert sheet.clauses.termination_for_convenience.section == "12"  # type: ignore[attr-defined]
    assert sheet.holiday_calendar == "US-DE"


#: An agreement on another form: the parties in the sentence that makes it, notices in
#: an address block, fees in pounds, a date in words, English law and London time.
OTHER_FORM = """SERVICES AGREEMENT

This Services Agreement is entered into as of 1 March 2027 by and between Acme Holdings, \
Inc., a Delaware corporation ("Customer"), and Beta Cloud Ltd (the "Provider").

1. Term. The term of this Agreement is five (5) years from the Effective Date.

2. Notices. All notices shall be in writing and sent by email as follows:

If to Customer:

Acme Holdings, Inc.

Attn: Chief Legal Officer

Email: notices@acme.example.com

with a copy to: counsel@acme.example.com

If to Provider:

Email: [email address]

3. Fees. Customer shall pay a monthly fee of £12,500 and £0.0125 per GB, and additional \
services at GBP 150.00 per hour. Payment is due by 5:00 p.m. London time.

4. Governing Law. This Agreement is governed by the laws of England and Wales.
"""


def test_a_bare_dollar_sign_is_unsure_unless_the_text_or_its_law_says_us_dollars() -> None:
    def currency(text: str) -> tuple[str, str | None]:
        (found,) = [f for f in read_agreement(text).figures if f.path == "currency"]
        return found.value, found.unsure

    in_dollars = OTHER_FORM.replace("£", "$").replace("GBP 150.00", "$150.00")
    value, unsure = currency(in_dollars)
    assert value == "USD"
    assert unsure == (
        '"$" is read as US dollars, but the text names no currency and is governed by the'
        ' law of England and Wales: other dollars are written "$" too'
    )
    # The same fees under a US state's law, or with the currency named, are sure.
    delaware = in_dollars.replace("England and Wales", "the State of Delaware")
    assert currency(delaware) == ("USD", None)
    named = in_dollars.replace("per hour.", "per hour. All amounts are in US dollars.")
    assert currency(named) == ("USD", None)
    assert currency(in_dollars.replace("$150.00", "USD 150.00")) == ("USD", None)


def test_a_client_and_a_vendor_are_the_customer_and_the_provider() -> None:
    text = (
        OTHER_FORM.replace('("Customer")', '("Client")')
        .replace('(the "Provider")', '(the "Vendor")')
        .replace("If to Customer:", "If to Client:")
        .replace("If to Provider:", "If to Vendor:")
    )
    assert "Customer" not in text.split("3. Fees")[0] and "Provider" not in text
    values = {f.path: f.value for f in read_agreement(text).figures}
    assert values["customer.name"] == "Acme Holdings, Inc."
    assert values["provider.name"] == "Beta Cloud Ltd"
    assert values["customer.notice_email"] == "notices@acme.example.com"
    assert values["customer.attention"] == "Chief Legal Officer"
    header = "Client: Acme Corp\nSupplier: Beta LLC\n\n1. Term. Two (2) years.\n"
    values = {f.path: f.value for f in read_agreement(header).figures}
    assert (values["customer.name"], values["provider.name"]) == ("Acme Corp", "Beta LLC")


def test_another_form_gives_its_own_parties_notices_fees_and_law() -> None:
    found = read_agreement(OTHER_FORM)
    by_path = _each_with_its_sentence(OTHER_FORM, found)
    values = {path: f.value for path, f in by_path.items()}
    assert values["customer.name"] == "Acme Holdings, Inc."
    assert values["provider.name"] == "Beta Cloud Ltd"
    assert values["customer.notice_email"] == "notices@acme.example.com"
    assert values["customer.copy_to"] == ["counsel@acme.example.com"]
    assert values["customer.attention"] == "Chief Legal Officer"
    assert values["effective_date"] == "2027-03-01"
    assert (values["fees.monthly_fee"], values["fees.usage_fee_per_gb"]) == ("12500.00", "0.0125")
    assert values["fees.additional_services_hourly"] == "150.00"
    assert (values["currency"], values["time_zone"]) == ("GBP", "Europe/London")
    assert values["governing_law"] == "England and Wales"
    assert (values["clauses.term.term_years"], values["clauses.term.section"]) == (5, "1")
    why = {m.path: m.why for m in found.missing}
    assert why["provider.notice_email"] == 'left blank in the text: "[email address]" (§2)'
    assert "provider.copy_to" not in why  # stated where the text has one; else not asked


@pytest.mark.parametrize(
    ("line", "day", "written"),
    [
        ("Effective Date: January 1, 2027", "2027-01-01", "January 1, 2027"),
        ("Effective Date: 1 January 2027", "2027-01-01", "1 January 2027"),
        ("Effective Date: 2027-01-01", "2027-01-01", "2027-01-01"),
        (
            "This Agreement is made and entered into as of the 1st day of January, 2027.",
            "2027-01-01",
            "the 1st day of January, 2027",
        ),
        (
            "This Agreement is dated as of this twenty-first day of March 2027 (the "
            '"Effective Date").',
            "2027-03-21",
            "this twenty-first day of March 2027",
        ),
    ],
)
def test_the_effective_date_in_words_or_numerals(line: str, day: str, written: str) -> None:
    text = f"AGREEMENT\n\n{line}\n\n1. Term. The term is two (2) years.\n"
    (found,) = [f for f in read_agreement(text).figures if f.path == "effective_date"]
    assert (found.value, found.written) == (day, written)
    assert text[found.start : found.end] == written


@pytest.mark.parametrize(
    ("written", "law", "day", "unsure"),
    [
        (
            "01/02/2027",
            "England and Wales",
            "2027-02-01",
            '"01/02/2027" is read day first, as dates are written under the law of England'
            " and Wales; read the other way it would be 2 January 2027",
        ),
        (
            "01/02/2027",
            "the State of Delaware",
            "2027-01-02",
            '"01/02/2027" is read month first, as dates are written under the law of the'
            " State of Delaware; read the other way it would be 1 February 2027",
        ),
        # Only one reading is a day: read, whatever the law.
        ("13/02/2027", "the State of New York", "2027-02-13", None),
        ("02/13/2027", "England and Wales", "2027-02-13", None),
        ("05/05/2027", "England and Wales", "2027-05-05", None),
    ],
)
def test_an_effective_date_in_numbers_is_read_in_the_order_of_its_law(
    written: str, law: str, day: str, unsure: str | None
) -> None:
    # Dates written in an agreement's text: parsing, no clock involved.
    text = (
        f"AGREEMENT\n\nEffective Date: {written}\n\n1. Term. The term is two (2) years.\n\n"
        f"2. Law. This Agreement is governed by the laws of {law}.\n"
    )
    (found,) = [f for f in read_agreement(text).figures if f.path == "effective_date"]
    assert (found.value, found.written, found.unsure) == (day, written, unsure)


def test_an_effective_date_in_numbers_no_law_orders_is_missing_naming_both_days() -> None:
    text = "AGREEMENT\n\nEffective Date: 01/02/2027\n\n1. Term. The term is two (2) years.\n"
    (missing,) = [m for m in read_agreement(text).missing if m.path == "effective_date"]
    assert missing.why == (
        '"01/02/2027" may be 2 January 2027 (month first) or 1 February 2027 (day first),'
        " and no governing law Clauseflow knows tells which"
    )


def test_a_date_that_is_no_day_is_not_read_and_a_blank_is_missing() -> None:
    text = "AGREEMENT\n\nEffective Date: February 30, 2027\n\n1. Term. Two (2) years.\n"
    (missing,) = [m for m in read_agreement(text).missing if m.path == "effective_date"]
    assert missing.why.startswith('no date on an "Effective Date:" line')
    text = 'This Agreement is effective as of [DATE] (the "Effective Date").\n'
    (missing,) = [m for m in read_agreement(text).missing if m.path == "effective_date"]
    assert missing.why == 'left blank in the text: "[DATE]" (at the head of the agreement)'


@pytest.mark.parametrize(
    ("said", "zone"),
    [
        ("New York time", "America/New_York"),
        ("Eastern Time", "America/New_York"),
        ("London time", "Europe/London"),
        ("Pacific Time", "America/Los_Angeles"),
    ],
)
def test_the_time_zone_only_where_the_text_names_one(said: str, zone: str) -> None:
    text = f"1. Notices. A notice is received at 9:00 a.m. {said} on the day it is sent.\n"
    (found,) = [f for f in read_agreement(text).figures if f.path == "time_zone"]
    assert (found.value, found.written, found.part) == (zone, said, "§1")


def test_parties_named_twice_differently_are_proposed_as_unsure() -> None:
    text = (
        "**Customer:** Acme Corp\n\n**Provider:** Beta LLC\n\n1. Parties. This Agreement is "
        'between Acme Corporation ("Customer") and Beta LLC ("Provider").\n'
    )
    by_path = {f.path: f for f in read_agreement(text).figures}
    assert by_path["customer.name"].value == "Acme Corp"
    assert by_path["customer.name"].unsure == "the text also names the Customer Acme Corporation"
    assert by_path["provider.name"].unsure is None


def test_fees_in_two_currencies_stated_twice_or_with_more_places_than_kept_are_unsure() -> None:
    text = (
        "EXHIBIT B: FEES\n\n1. Usage: $0.00125 per gigabyte.\n\n2. Base: a monthly fee of €1,000.\n"
    )
    by_path = {f.path: f for f in read_agreement(text).figures}
    usage = by_path["fees.usage_fee_per_gb"]
    assert (usage.value, usage.unsure) == ("0.00125", "the term sheet keeps 4 decimal places of it")
    currency = by_path["currency"]
    # The monthly fee's currency, the first fee of Exhibit B.
    assert (currency.value, currency.unsure) == ("EUR", "other fees are in USD")
    text = "3. Fees. Additional services at $180 per hour; emergency work at $300 per hour.\n"
    (hourly,) = [f for f in read_agreement(text).figures if f.path.endswith("_hourly")]
    assert (hourly.value, hourly.unsure) == ("180.00", "the text also states $300")


@pytest.mark.parametrize(
    ("sentence", "years", "unsure"),
    [
        ("The Term shall be five years.", 5, None),
        (
            "The initial term is three (3) years, and it renews for successive one (1) year "
            "renewal terms.",
            3,
            "the text also states 1 years where this figure could be",
        ),
    ],
)
def test_the_term_in_years(sentence: str, years: int, unsure: str | None) -> None:
    text = f"1. Term. {sentence}\n"
    (term,) = [f for f in read_agreement(text).figures if f.path == "clauses.term.term_years"]
    assert (term.value, term.unsure, term.part) == (years, unsure, "§1")


def test_a_term_in_months_is_missing_not_converted() -> None:
    # The term sheet counts it in years; thirty-six months is for a person to confirm.
    text = "1. Term. This Agreement runs for a term of thirty-six (36) months.\n"
    (missing,) = [m for m in read_agreement(text).missing if m.path == "clauses.term.term_years"]
    assert missing.why == 'no year figure in a sentence with "term"'
