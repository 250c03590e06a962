"""The term sheet: a contract's parties, numbers and section references.

A term sheet carries the figures of a contract, never its text. Every clause that
Clauseflow runs reads its numbers from here, so a contract that deviates from the
reference MSA only needs a different term sheet. The parties, fees, business hours and
notice rules are the contract's own; each clause's figures are declared by its rulebook.

Its days are counted by its governing law (contracts/calendar/jurisdictions.py): New
York's by NY GCL §§ 20, 24, 25; any other's on that law's public holidays, as its
``day_count`` states. A law without a calendar of its own must name one.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from contracts.calendar.jurisdictions import (
    NEW_YORK,
    counts_by_new_york,
    jurisdiction_of,
    law_without_calendar,
)
from contracts.holidays import available_holiday_calendars
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


class DayCount(_Terms):
    """How days are counted under a governing law other than New York's.

    New York law says it itself (NY GCL §§ 20, 25), so a New York contract has none.
    Business days are the term sheet's ``business_hours.weekdays`` that are not public
    holidays of its ``holiday_calendar``. A clause that makes time of the essence, or a
    reminder that must not be late, keeps its own rule for a last day.
    """

    event_day: Literal["excluded", "included"] = Field(
        default="excluded",
        description="Whether the event's own day is day 1 of a period (included) or not",
    )
    roll: Literal["forward", "backward", "none"] = Field(
        default="forward",
        description="Where a last day that is not a business day goes: to the next business"
        " day, the previous one, or nowhere",
    )


class _LawWithoutCalendar(str):
    """A governing law with no calendar in a term sheet that names none. The model's
    first check marks it, so that the refusal is the field's (``body.governing_law``)."""


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
        default="US-NY",
        description="Public holidays that stop the clock: by default the governing law's"
        " (US-NY, NY GCL § 24; US-DE; US-CA; GB-ENG); 'none' for weekends only",
    )
    governing_law: str = Field(
        default=NEW_YORK.law,
        description="Chooses the calendar days are counted on: State of New York, State of"
        " Delaware, State of California or England and Wales; another law must name its"
        " holiday_calendar",
    )
    effective_date: dt.date
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    fees: Fees
    business_hours: BusinessHours = Field(default_factory=BusinessHours)
    #: Each clause's figures under its heading (``clauses.payment.payment_days``). The
    #: rulebooks declare them, with types and defaults: rules/rulebook/terms.py builds the
    #: model that checks this part and fills in what a term sheet leaves out.
    clauses: dict[str, Any] = Field(default_factory=dict)
    notices: NoticeTerms = Field(default_factory=NoticeTerms)
    #: Absent (and left out of the stored sheet) under New York law, so that the sheets
    #: and digests of existing contracts do not change.
    day_count: DayCount | None = Field(
        default=None,
        exclude_if=lambda v: v is None,
        description="How days are counted under a law other than New York's; filled with"
        " the defaults when left out",
    )

    @model_validator(mode="before")
    @classmethod
    def _calendar_of_the_law(cls, data: Any) -> Any:
        # The law chooses the calendar a term sheet leaves out, and a law other than New
        # York's gets its day count stated; a law with no calendar is marked for refusal.
        if not isinstance(data, dict):
            return data
        law = data.get("governing_law", NEW_YORK.law)
        if not isinstance(law, str):
            return data  # the field's own check refuses it
        jurisdiction = jurisdiction_of(law)
        data = dict(data)
        if data.get("holiday_calendar") is None:
            if jurisdiction is None:
                data["governing_law"] = _LawWithoutCalendar(law)
                return data
            data["holiday_calendar"] = jurisdiction.calendar
        if jurisdiction is not NEW_YORK and data.get("day_count") is None:
            data["day_count"] = {}
        return data

    @field_validator("holiday_calendar")
    @classmethod
    def _known_holiday_calendar(cls, v: str) -> str:
        known = available_holiday_calendars()
        if v not in known:
            raise ValueError(
                f"unknown holiday calendar {v!r}; use one of {', '.join(known)}, or leave it"
                " out to count on the governing law's"
            )
        return v

    @field_validator("governing_law", mode="before")
    @classmethod
    def _law_with_a_calendar(cls, v: Any) -> Any:
        if isinstance(v, _LawWithoutCalendar):
            raise ValueError(law_without_calendar(str(v)))
        return v

    @field_validator("day_count")
    @classmethod
    def _day_count_outside_new_york(cls, v: DayCount | None, info: ValidationInfo) -> Any:
        law = info.data.get("governing_law")
        if v is not None and isinstance(law, str) and counts_by_new_york(law):
            raise ValueError(
                "a contract under New York law counts its days by NY GCL §§ 20, 24, 25:"
                " leave day_count out (it is for other governing laws)"
            )
        return v

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
