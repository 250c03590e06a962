"""The contract's money position (issue 15, part 3): its ledger, the §9 liability cap and,
once the agreement is ending, the §10 final settlement.

Read from what the cases recorded: each invoice case's start facts, its ``payment_due``
deadline and the facts recorded on it (disputes, resolutions, payments); each monthly SLA
review's credit decisions. The arithmetic is contracts.money.position's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from contracts.money import InvoiceFacts, to_cents
from contracts.money.position import (
    CreditOnRecord,
    InvoiceOnRecord,
    LiabilityCap,
    MoneyLine,
    Rates,
    Settlement,
    final_settlement,
    ledger,
    liability_cap,
    standing_of,
)
from store.contracts import contract_terms
from store.models import AuditEntry, Case, Contract, Deadline, DecisionRecord

INVOICE_CLAUSE = "invoice_payment"
REVIEW_CLAUSE = "monthly_sla_review"
_ZERO = Decimal("0.00")


class MoneyLinePublic(BaseModel):
    """One line: a signed amount (positive: the Customer owes more) and why."""

    day: dt.date | None
    kind: str = Field(
        description="invoice, payment, dispute, interest, service_credit, fees_not_invoiced, "
        "invoice_unpaid or overpayment"
    )
    amount: Decimal = Field(description="Decimal cents, as a string")
    explanation: str
    case_id: str | None


class LiabilityCapPublic(BaseModel):
    """The Provider's liability cap (§9) for an event on ``event_day``."""

    event_day: dt.date
    counted_from: dt.date
    counted_to: dt.date
    amount: Decimal
    payments: list[MoneyLinePublic]
    explanation: list[str]


class SettlementPublic(BaseModel):
    """What is owed when the agreement ends (§10); a positive total: the Customer pays."""

    ends_on: dt.date
    last_service_day: dt.date
    lines: list[MoneyLinePublic]
    total: Decimal
    explanation: list[str]
    what_if: bool = Field(description="Worked out for a day asked for, not the agreement's end")


class PositionPublic(BaseModel):
    """The contract's money on ``as_of``."""

    contract_id: str
    currency: str
    as_of: dt.date
    invoiced: Decimal
    paid: Decimal
    outstanding: Decimal = Field(description="Principal unpaid and not disputed")
    interest: Decimal = Field(description="Late interest charged and unpaid")
    disputed: Decimal = Field(description="Contested and not yet resolved")
    service_credits: Decimal
    balance: Decimal = Field(description="outstanding + interest - service_credits")
    ledger: list[MoneyLinePublic]
    liability_cap: LiabilityCapPublic
    final_settlement: SettlementPublic | None


def _cents(value: Any) -> Decimal:
    try:
        return max(_ZERO, to_cents(Decimal(str(value))))
    except (InvalidOperation, ValueError):
        return _ZERO


def _day(value: Any, fallback: dt.date) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return fallback


def _invoices(session: Session, contract: Contract) -> list[InvoiceOnRecord]:
    zone = contract_terms(contract).zone
    # Columns, not rows as objects, and the contract's invoices as a subquery rather than
    # a list of their ids: a contract may hold thousands of invoices.
    invoice_ids = select(Case.id).where(
        Case.contract_id == contract.id, Case.clause == INVOICE_CLAUSE
    )
    cases = session.exec(
        select(Case.id, Case.facts, Case.opened_at).where(
            Case.contract_id == contract.id, Case.clause == INVOICE_CLAUSE
        )
    ).all()
    if not cases:
        return []
    due: dict[str, dt.date] = {}
    for case_id, last_day in session.exec(
        select(Deadline.case_id, col(Deadline.last_day))
        .where(col(Deadline.case_id).in_(invoice_ids), Deadline.name == "payment_due")
        .order_by(col(Deadline.id))
    ).all():
        if last_day is not None:
            due[case_id] = last_day
    facts: dict[str, list[tuple[dt.datetime, Any]]] = {case_id: [] for case_id, _, _ in cases}
    for of_case, at, after in session.exec(
        select(col(AuditEntry.case_id), AuditEntry.at, AuditEntry.after)
        .where(col(AuditEntry.case_id).in_(invoice_ids), AuditEntry.action == "fact")
        .order_by(col(AuditEntry.at), col(AuditEntry.id))
    ).all():
        facts.setdefault(of_case or "", []).append((at, after))
    out = []
    for case_id, case_facts, opened_at in cases:
        try:
            received_at = dt.datetime.fromisoformat(str(case_facts.get("invoice_received_at")))
        except ValueError:  # a row written before its facts were checked
            received_at = opened_at
        if received_at.tzinfo is None:
            received_at = received_at.replace(tzinfo=dt.UTC)
        received_on = received_at.astimezone(zone).date()
        out.append(
            InvoiceOnRecord(
                case_id,
                str(case_facts.get("invoice_number") or case_id),
                received_on,
                due.get(case_id),
                _recorded(case_facts, facts[case_id], zone),
            )
        )
    return out


def _recorded(
    case_facts: Mapping[str, Any], entries: list[tuple[dt.datetime, Any]], zone: Any
) -> InvoiceFacts:
    """An invoice's recorded facts (``entries``: when each fact was recorded, and its
    audit entry's ``after``), clamped as its calculator clamps them."""
    invoice = _cents(case_facts.get("invoice_amount"))
    contested, payable, resolved_on = _ZERO, None, None
    payments: list[tuple[dt.date, Decimal]] = []
    for at, recorded in entries:
        after = recorded if isinstance(recorded, dict) else {}
        # "fact:<name>", with ":<n>" when the same fact is recorded again.
        fact = str(after.get("event", "")).partition(":")[2].split(":")[0]
        values = after.get("values") or {}
        local = at.astimezone(zone).date()
        if fact == "dispute_raised":
            contested = min(invoice, _cents(values.get("contested_amount")))
            payable, resolved_on = None, None
        elif fact == "dispute_resolved" and contested > 0:
            payable = min(contested, _cents(values.get("contested_amount_payable")))
            resolved_on = local
        elif fact == "payment_received":
            amount = _cents(values.get("amount"))
            if amount > 0:
                payments.append((_day(values.get("paid_on"), local), amount))
    return InvoiceFacts(invoice, contested, payable, resolved_on, tuple(payments))


def _credits(session: Session, contract: Contract) -> list[CreditOnRecord]:
    """The credits the contract's monthly reviews found due, once a month."""
    ids = session.exec(
        select(Case.id).where(Case.contract_id == contract.id, Case.clause == REVIEW_CLAUSE)
    ).all()
    if not ids:
        return []
    found: dict[tuple[str, dt.date], CreditOnRecord] = {}
    for case_id, facts in session.exec(
        select(DecisionRecord.case_id, DecisionRecord.facts).where(
            col(DecisionRecord.case_id).in_(ids), DecisionRecord.action == "send_notice"
        )
    ).all():
        if facts.get("credit_due") is not True or not facts.get("review_month"):
            continue
        try:
            # A final part-month (version 5) names its days; its first day is given.
            if facts.get("review_month_start"):
                month = dt.date.fromisoformat(str(facts["review_month_start"]))
            else:
                month = dt.datetime.strptime(str(facts["review_month"]), "%B %Y").date()
        except ValueError:
            continue
        found[(case_id, month)] = CreditOnRecord(case_id, month, _cents(facts.get("credit_amount")))
    return sorted(found.values(), key=lambda c: (c.month, c.case_id))


def _line(line: MoneyLine) -> MoneyLinePublic:
    return MoneyLinePublic(
        day=line.day,
        kind=line.kind,
        amount=line.amount,
        explanation=line.explanation,
        case_id=line.case_id,
    )


def _cap(cap: LiabilityCap) -> LiabilityCapPublic:
    return LiabilityCapPublic(
        event_day=cap.event_day,
        counted_from=cap.counted_from,
        counted_to=cap.counted_to,
        amount=cap.amount,
        payments=[_line(p) for p in cap.payments],
        explanation=list(cap.explanation),
    )


def _settlement(s: Settlement, what_if: bool) -> SettlementPublic:
    return SettlementPublic(
        ends_on=s.ends_on,
        last_service_day=s.last_service_day,
        lines=[_line(line) for line in s.lines],
        total=s.total,
        explanation=list(s.explanation),
        what_if=what_if,
    )


def end_days(contract: Contract) -> tuple[dt.date, dt.date] | None:
    """The day the agreement ends and its last day of Services, once it is ending.

    An end at local midnight leaves the day before as the last day of Services; an end
    during a day (for cause, at once) counts that day.
    """
    if contract.legal_state not in ("terminating", "ended") or contract.ends_at is None:
        return None
    zone = contract_terms(contract).zone
    local = contract.ends_at.astimezone(zone)
    ends_on = local.date()
    if local.time() == dt.time(0):
        return ends_on, ends_on - dt.timedelta(days=1)
    return ends_on, ends_on


def money_position(
    session: Session,
    contract: Contract,
    as_of: dt.date,
    cap_event_day: dt.date | None = None,
    settle_on: dt.date | None = None,
) -> PositionPublic:
    """The contract's money on ``as_of``; the cap for an event on ``cap_event_day``
    (``as_of`` by default); the settlement at the agreement's end, or, asked for with
    ``settle_on``, as if the agreement ended at the start of that day."""
    terms = contract_terms(contract)
    payment = terms.clauses.get("payment", {})
    rates = Rates(
        Decimal(str(payment.get("late_interest_percent_per_month", Rates.monthly_percent))),
        Decimal(str(payment.get("maximum_lawful_annual_rate_percent", Rates.max_annual_percent))),
    )
    invoices = _invoices(session, contract)
    credits = _credits(session, contract)
    lines = ledger(invoices, credits, as_of, rates)
    known = [i for i in invoices if i.received_on <= as_of]
    standings = [standing_of(i, as_of, rates) for i in known]
    outstanding = sum((s.outstanding for s in standings), _ZERO)
    interest = sum((s.interest_unpaid for s in standings), _ZERO)
    disputed = sum(
        (i.facts.contested for i, s in zip(known, standings, strict=True) if s.dispute_open),
        _ZERO,
    )
    credited = sum((-line.amount for line in lines if line.kind == "service_credit"), _ZERO)
    settlement = None
    ending = end_days(contract)
    if settle_on is not None:
        ending = (settle_on, settle_on - dt.timedelta(days=1))
    if ending is not None:
        section = str(terms.clauses.get("term", {}).get("section", "10"))
        settlement = _settlement(
            final_settlement(
                monthly_fee=terms.fees.monthly_fee,
                effective_date=terms.effective_date,
                ends_on=ending[0],
                last_service_day=ending[1],
                invoices=invoices,
                credits=credits,
                section=section,
                rates=rates,
            ),
            what_if=settle_on is not None,
        )
    return PositionPublic(
        contract_id=contract.id,
        currency=terms.currency,
        as_of=as_of,
        invoiced=sum((i.facts.amount for i in known), _ZERO),
        paid=sum((s.paid for s in standings), _ZERO),
        outstanding=outstanding,
        interest=interest,
        disputed=disputed,
        service_credits=credited,
        balance=outstanding + interest - credited,
        ledger=[_line(line) for line in lines],
        liability_cap=_cap(liability_cap(invoices, cap_event_day or as_of)),
        final_settlement=settlement,
    )
