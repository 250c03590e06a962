"""Calculators: pure computations a rulebook asks for before its rules are evaluated.

A rulebook lists calculators under ``derive``. Before each evaluation the decide
activity runs them on the case's facts, recorded facts, deadlines and the workflow's
clock, and adds their outputs to the facts the rules see (and to the case's facts,
so notices can quote them). Rules compare scalars, so calculators turn money and
time into plain numbers and flags; the Decimal amounts travel as strings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from contracts.calendar import ContractCalendar, describe_instant
from contracts.money import late_payment_interest, to_cents
from contracts.terms import TermSheet


@dataclass(frozen=True)
class RecordedFactView:
    fact: str
    values: Mapping[str, Any]
    at: dt.datetime


@dataclass(frozen=True)
class DeadlineState:
    due_at: dt.datetime
    last_day: dt.date | None
    status: str


@dataclass(frozen=True)
class CalculationContext:
    """What a calculator may look at. ``now`` is the workflow's clock."""

    terms: TermSheet
    facts: Mapping[str, Any]
    recorded: Sequence[RecordedFactView]
    deadlines: Mapping[str, DeadlineState]
    now: dt.datetime
    opened_at: dt.datetime


@dataclass(frozen=True)
class Calculator:
    name: str
    outputs: tuple[str, ...]
    fn: Callable[[CalculationContext], dict[str, Any]]
    description: str = ""


CALCULATORS: dict[str, Calculator] = {}


def calculator(name: str, outputs: tuple[str, ...], description: str) -> Callable[..., Any]:
    def register(fn: Callable[[CalculationContext], dict[str, Any]]) -> Any:
        CALCULATORS[name] = Calculator(name, outputs, fn, description)
        return fn

    return register


def _money(value: Any) -> Decimal:
    return Decimal(str(value)) if value not in (None, "") else Decimal("0")


def _instant(value: Any) -> dt.datetime:
    return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))


@calculator(
    "invoice_position",
    (
        "invoice_amount",
        "contested_amount",
        "uncontested_amount",
        "amount_due",
        "amount_paid",
        "amount_outstanding",
        "fully_paid",
        "dispute_open",
        "days_past_due",
        "late_interest",
        "late_interest_explanation",
    ),
    "What is due on an invoice after disputes and payments, and the late interest (MSA §3)",
)
def invoice_position(ctx: CalculationContext) -> dict[str, Any]:
    """The money position of an invoice case.

    The uncontested portion stays due on the payment terms while a dispute runs; a
    resolved dispute sets how much of the contested amount is payable after all.
    Payments reduce what is due; interest accrues on what is overdue after the
    payment due date, at the contract rate or the lawful maximum if lower.
    """
    invoice = to_cents(_money(ctx.facts.get("invoice_amount")))
    contested = Decimal("0")
    resolved_payable: Decimal | None = None
    paid = Decimal("0")
    for r in ctx.recorded:
        if r.fact == "dispute_raised":
            contested = to_cents(_money(r.values.get("contested_amount")))
            resolved_payable = None
        elif r.fact == "dispute_resolved":
            resolved_payable = to_cents(_money(r.values.get("contested_amount_payable")))
        elif r.fact == "payment_received":
            paid += to_cents(_money(r.values.get("amount")))
    uncontested = invoice - contested
    dispute_open = contested > 0 and resolved_payable is None
    due = uncontested + (resolved_payable or Decimal("0"))
    outstanding = max(Decimal("0"), due - paid)
    days_past_due = 0
    interest = Decimal("0.00")
    explanation = ""
    payment_due = ctx.deadlines.get("payment_due")
    if payment_due and payment_due.last_day and outstanding > 0:
        zone = ctx.terms.time_zone
        today = ctx.now.astimezone(ContractCalendar(time_zone=zone).zone).date()
        days_past_due = max(0, (today - payment_due.last_day).days)
        if days_past_due > 0:
            terms = ctx.terms.clauses.payment
            result = late_payment_interest(
                outstanding,
                payment_due.last_day,
                today,
                monthly_rate_percent=terms.late_interest_percent_per_month,
                max_annual_rate_percent=terms.maximum_lawful_annual_rate_percent,
            )
            interest = result.amount
            explanation = "\n".join(result.explanation)
    return {
        "invoice_amount": str(invoice),
        "contested_amount": str(contested),
        "uncontested_amount": str(uncontested),
        "amount_due": str(due),
        "amount_paid": str(paid),
        "amount_outstanding": str(outstanding),
        "fully_paid": outstanding == 0,
        "dispute_open": dispute_open,
        "days_past_due": days_past_due,
        "late_interest": str(interest),
        "late_interest_explanation": explanation,
    }


@calculator(
    "incident_timing",
    ("reported_in_business_hours", "reported_at_text"),
    "Whether an incident was reported inside the contract's business hours (Exhibit A.2)",
)
def incident_timing(ctx: CalculationContext) -> dict[str, Any]:
    """Decides which response target applies: inside or outside business hours."""
    reported = _instant(ctx.facts["reported_at"])
    cal = ContractCalendar.from_terms(ctx.terms)
    local = reported.astimezone(cal.zone)
    inside = cal.is_business_day(local.date()) and (
        cal.business_start <= local.time() < cal.business_end
    )
    return {
        "reported_in_business_hours": inside,
        "reported_at_text": describe_instant(reported, ctx.terms.time_zone),
    }


@calculator(
    "maintenance_timing",
    ("notice_lead_hours", "notice_in_time", "required_notice_hours"),
    "How much notice a maintenance window gets, against the 72 hours required (Exhibit A.1)",
)
def maintenance_timing(ctx: CalculationContext) -> dict[str, Any]:
    """Hours between the notice (the case's opening) and the window's start, and if enough."""
    starts = _instant(ctx.facts["window_starts_at"])
    required = ctx.terms.clauses.service_levels.maintenance_notice_hours
    # The notice goes out when the case opens, so measure from then on every event.
    lead = (starts - ctx.opened_at).total_seconds() / 3600
    return {
        "notice_lead_hours": int(lead // 1),
        "notice_in_time": lead >= required,
        "required_notice_hours": required,
    }


def _load_calculator_modules() -> None:
    """Registers calculators kept in ``contracts/calc_*.py`` modules, one per topic."""
    import importlib
    import pkgutil

    import contracts

    for module in pkgutil.iter_modules(contracts.__path__):
        if module.name.startswith("calc_"):
            importlib.import_module(f"contracts.{module.name}")


_load_calculator_modules()
