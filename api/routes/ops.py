"""`/api/ops/summary`: counts of stuck, escalated and imminent cases, for alerting."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter

from api.access import Reader
from api.deps import SessionDep, SettingsDep
from api.ops import ops_summary
from api.other_partys_notices import cases_in_their_name
from api.schemas import CaseInTheirNamePublic, OpsSummary

# Listed with the cases too, as the summary always was: it reads the same case list.
router = APIRouter(prefix="/api/ops", tags=["cases", "operations"])


@router.get("/summary", response_model=OpsSummary)
def summary(session: SessionDep, settings: SettingsDep, _: Reader) -> Any:
    """How many open cases are stuck (and of which kind), escalated, or due soon.

    Alert on ``stuck`` and ``escalated`` above zero; the thresholds that make a
    failing activity count as stuck are in ``thresholds``.
    """
    return ops_summary(session, dt.datetime.now(dt.UTC), settings)


@router.get("/cases-in-the-other-partys-name", response_model=list[CaseInTheirNamePublic])
def cases_in_the_other_partys_name(session: SessionDep, _: Reader) -> Any:
    """Cases on a rulebook written before notices said whose they are, that sent (or may
    yet send) a notice that is the other party's to give.

    They keep running on their own rulebook version; decide for each whether to close
    it and open it again on the current one. Open cases come first.
    """
    return cases_in_their_name(session)
