"""`/readyz`: the API can serve, because the store and Temporal both answer.

200 with each component's status when both answer; 503 naming what is down
otherwise, never 500. Each check has a short timeout so that a load balancer's probe
is answered promptly even when a dependency hangs. (`/healthz`, in api/main.py, only
says that the process is alive.)
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest
from temporalio.client import Client

from runtime.settings import get_settings
from store.db import get_engine

# Listed with the operations endpoints too, as it always was (beside /metrics).
router = APIRouter(tags=["operations", "health"])

#: Seconds each dependency has to answer.
CHECK_TIMEOUT = 2.0


def _select_one() -> None:
    with get_engine().connect() as conn:
        conn.execute(text("SELECT 1"))


def _reason(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer within {CHECK_TIMEOUT:g}s"
    # First line only: driver messages can run long; they name hosts, never case data.
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]


async def _check_database() -> dict[str, Any]:
    try:
        await asyncio.wait_for(asyncio.to_thread(_select_one), CHECK_TIMEOUT)
    except Exception as exc:
        return {"status": "down", "error": _reason(exc)}
    return {"status": "ok"}


async def _check_temporal(request: Request) -> dict[str, Any]:
    try:
        client: Client | None = getattr(request.app.state, "temporal", None)
        if client is None:
            from runtime.temporal import connect

            client = await asyncio.wait_for(connect(get_settings()), CHECK_TIMEOUT)
            request.app.state.temporal = client
        await client.workflow_service.get_system_info(
            GetSystemInfoRequest(), retry=False, timeout=dt.timedelta(seconds=CHECK_TIMEOUT)
        )
    except Exception as exc:
        return {"status": "down", "error": _reason(exc)}
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """200 when the database and Temporal answer; 503 naming each one that does not."""
    database, temporal = await asyncio.gather(_check_database(), _check_temporal(request))
    components = {"database": database, "temporal": temporal}
    down = [name for name, c in components.items() if c["status"] != "ok"]
    body = {"status": "down" if down else "ok", "down": down, "components": components}
    return JSONResponse(body, status_code=503 if down else 200)
