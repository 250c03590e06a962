"""The term sheet: a contract's parties, numbers and section references.

A term sheet carries the figures of a contract, never its text. Every clause that
Clauseflow runs reads its numbers from here, so a contract that deviates from the
reference MSA only needs a different term sheet. The parties, fees, business hours and
notice rules are the contract's own; each clause's figures are declared by its rulebook.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator, model_validator

from contracts.limits import date_in_range, date_range_text

PartyRole = Literal["customer", "provider"]


class _Terms(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Party(_Terms):
    """A party to the contract and where written notice to it goes."""

    name: str = Field(min_length=1, max_length=200)
    notice_email: EmailStr
    copy_to: list[EmailStr] = Field(
        default_factory=list, description="Copy-to recipients of notices"
    )
    attention: str | None = Field(default=None, max_length=200)


class ContractOwner(_Terms):
    """The person inside our organisation who answers for the contract."""

    name: str = Field(min_length=1, max_length=200)
    email: EmailStr


class Fees(_Terms):
    """Exhibit B fees. Amounts are Decimal in the contract currency."""

    monthly_fee: Decimal = Field(ge=0, decimal_places=2)
    usage_fee_per_gb: Decimal = Field(default=Decimal("0"), ge=0, decimal_places=4)
    additional_services_hourly: Decimal = Field(default=Decimal("0"), ge=0, decimal_places=2)


class BusinessHours(_Terms):
    """Business hours in the contract's time zone (Exhibit A.2)."""

    start: dt.time = dt.time(9, 0)
    end: dt.time = dt.time(17, 0)
    weekdays: list[int] = Field(
        default_factory=lambda: [0, 1, 2, 3, 4],
        description="ISO weekday numbers counted from Monday = 0",
    )

    @field_validator("start", "end")
    @classmethod
    def _local_time(cls, v: dt.time) -> dt.time:
        if v.tzinfo is not None:
            raise ValueError(
                "business hours are local times in the contract's time zone: give no UTC offset"
            )
        return v

    @model_validator(mode="after")
    def _check(self) -> BusinessHours:
        if self.end <= self.start:
            raise ValueError("business hours must end after they start")
        if not self.weekdays or any(d < 0 or d > 6 for d in self.weekdays):
            raise ValueError("weekdays must be numbers 0 (Monday) to 6 (Sunday)")
        return self


class NoticeTerms(_Terms):
    """How written notice works under the contract.

    The MSA does not say when an emailed notice counts as received, so this is a
    contract parameter: by default, when the recipient's mail server accepted it
    (SendGrid's "delivered" event); or when it was sent.
    """

    deemed_receipt: Literal["delivered", "sent"] = "delivered"


class TermSheet(_Terms):
    """A contract's terms as Clauseflow runs them. Defaults are the reference MSA's."""

    title: str = Field(default="Master Services Agreement", min_length=1, max_length=200)
    reference: str | None = Field(default=None, max_length=100)
    customer: Party
    provider: Party
    owner: ContractOwner
    our_side: PartyRole = Field(
        default="customer", description="Which party runs Clauseflow for this contract"
    )
    time_zone: str = "America/New_York"
    holiday_calendar: str = Field(
        default="US-NY", description="Public holidays that stop the clock (NY GCL § 24)"
    )
    governing_law: str = "State of New York"
    effective_date: dt.date
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    fees: Fees
    business_hours: BusinessHours = Field(default_factory=BusinessHours)
    #: Each clause's figures under its heading (``clauses.payment.payment_days``). The
    #: rulebooks declare them, with types and defaults: rules/rulebook/terms.py builds the
    #: model that checks this part and fills in what a term sheet leaves out.
    clauses: dict[str, Any] = Field(default_factory=dict)
    notices: NoticeTerms = Field(default_factory=NoticeTerms)

    @field_validator("time_zone")
    @classmethod
    def _known_time_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown time zone {v!r}; use an IANA name such as America/New_York"
            ) from exc
        return v

    @field_validator("effective_date")
    @classmethod
    def _effective_date_in_range(cls, v: dt.date) -> dt.date:
        if not date_in_range(v):
            raise ValueError(f"the effective date must be {date_range_text()}")
        return v

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def party(self, role: PartyRole) -> Party:
        return self.customer if role == "customer" else self.provider

    def parameter(self, path: str) -> Any:
        """Looks up a dotted path such as ``clauses.payment.payment_days``."""
        node: Any = self
        for part in path.split("."):
            if isinstance(node, BaseModel):
                if part not in type(node).model_fields:
                    raise KeyError(path)
                node = getattr(node, part)
            elif isinstance(node, dict):
                node = node[part]
            else:
                raise KeyError(path)
        return node


def other_party(role: PartyRole) -> PartyRole:
    """The counterparty of ``role``."""
    return "provider" if role == "customer" else "customer"
