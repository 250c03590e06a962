"""`/api/ops/summary`: counts of stuck, escalated and imminent cases, for alerting."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter

from api.access import Reader
from api.deps import SessionDep, SettingsDep
from api.ops import ops_summary
from api.schemas import OpsSummary

# Listed with the cases too, as the summary always was: it reads the same case list.
router = APIRouter(prefix="/api/ops", tags=["cases", "operations"])


@router.get("/summary", response_model=OpsSummary)
def summary(session: SessionDep, settings: SettingsDep, _: Reader) -> Any:
    """How many open cases are stuck (and of which kind), escalated, or due soon.

    Alert on ``stuck`` and ``escalated`` above zero; the thresholds that make a
    failing activity count as stuck are in ``thresholds``.
    """
    return ops_summary(session, dt.datetime.now(dt.UTC), settings)
