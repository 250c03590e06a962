"""Service levels: record downtime and maintenance windows into the case that starts with
the contract and declares them (the monthly SLA review)."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.access import Manager
from api.deps import SettingsDep, TemporalDep
from api.schemas import CaseDetail
from api.standing_cases import record_in_standing_case

router = APIRouter(prefix="/api/contracts/{contract_id}", tags=["service levels"])


def _check_order(start: dt.datetime, end: dt.datetime, start_name: str, end_name: str) -> None:
    """Refuses an interval that ends before it starts, here with a 422: the monthly review
    cannot compute uptime over one, and its decide activity would fail on every retry."""
    if (start.utcoffset() is None) != (end.utcoffset() is None):
        raise ValueError(f"{start_name} and {end_name} must both have a UTC offset or neither")
    if end < start:
        raise ValueError(f"{end_name} must not be before {start_name}")


class DowntimeCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    started_at: dt.datetime
    ended_at: dt.datetime
    description: str | None = Field(default=None, max_length=2000)
    recorded_by: str = Field(min_length=1, max_length=200)

    @model_validator(mode="after")
    def _ends_after_it_starts(self) -> DowntimeCreate:
        _check_order(self.started_at, self.ended_at, "started_at", "ended_at")
        return self


class MaintenanceWindowCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    starts_at: dt.datetime
    ends_at: dt.datetime
    notice_given_at: dt.datetime = Field(description="When the Customer was given notice")
    description: str | None = Field(default=None, max_length=2000)
    recorded_by: str = Field(min_length=1, max_length=200)

    @model_validator(mode="after")
    def _ends_after_it_starts(self) -> MaintenanceWindowCreate:
        _check_order(self.starts_at, self.ends_at, "starts_at", "ends_at")
        return self


_REVIEW_RESPONSES: dict[int | str, dict[str, str]] = {
    404: {"description": "Unknown contract, or its monthly SLA review is not running"},
    409: {"description": "The review is closed, or its workflow refused the record"},
}


def _iso(value: dt.datetime) -> str:
    return value.isoformat()


@router.post("/downtime", response_model=CaseDetail, responses=_REVIEW_RESPONSES)
async def record_downtime(
    actor: Manager,
    contract_id: str,
    body: DowntimeCreate,
    client: TemporalDep,
    settings: SettingsDep,
) -> CaseDetail:
    """Records an outage; the month's review counts it against uptime."""
    values = {
        "started_at": _iso(body.started_at),
        "ended_at": _iso(body.ended_at),
        "description": body.description,
    }
    return await record_in_standing_case(
        client, settings, contract_id, actor, "downtime_recorded", values, body.recorded_by
    )


@router.post("/maintenance-windows", response_model=CaseDetail, responses=_REVIEW_RESPONSES)
async def record_maintenance_window(
    actor: Manager,
    contract_id: str,
    body: MaintenanceWindowCreate,
    client: TemporalDep,
    settings: SettingsDep,
) -> CaseDetail:
    """Records a maintenance window; it is excluded from uptime only if noticed in time."""
    values = {
        "starts_at": _iso(body.starts_at),
        "ends_at": _iso(body.ends_at),
        "notice_given_at": _iso(body.notice_given_at),
        "description": body.description,
    }
    return await record_in_standing_case(
        client,
        settings,
        contract_id,
        actor,
        "maintenance_window_recorded",
        values,
        body.recorded_by,
    )
