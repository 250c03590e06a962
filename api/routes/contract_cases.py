"""Starting a case under its contract: ``POST /api/contracts/{contract_id}/cases``.

The start itself (facts checked, row written, workflow started once) is
``api/case_start.py``; this route reads the Idempotency-Key and answers.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response

from api.access import Manager
from api.case_start import open_case, start_errors
from api.deps import SettingsDep, TemporalDep
from api.errors import IDEMPOTENCY_KEY, IDEMPOTENCY_KEY_PARAMETER, idempotency_key_errors
from api.schemas import CaseCreate, CaseDetail

router = APIRouter(prefix="/api/contracts/{contract_id}/cases", tags=["cases"])


@router.post(
    "",
    status_code=201,
    response_model=CaseDetail,
    responses={
        200: {"description": "The same Idempotency-Key was sent before: the existing case"},
        202: {
            "description": "Started, but its first step is not recorded yet: the case as it "
            "stands (state opened); follow it with GET /api/cases/{id}"
        },
        404: {"description": "Unknown contract"},
        409: {"description": "The Idempotency-Key was used for a different request"},
        422: {
            "description": "No Idempotency-Key, an unknown clause or invalid facts: names "
            "each field, all at once"
        },
        503: {
            "description": "The database or Temporal is unavailable: nothing was started, "
            "unless the message names the started case"
        },
    },
    # Read by the handler, not by FastAPI: a request without it still gets its body's errors.
    openapi_extra={"parameters": [IDEMPOTENCY_KEY_PARAMETER]},
)
async def start_case(
    _: Manager,
    contract_id: str,
    body: CaseCreate,
    request: Request,
    response: Response,
    client: TemporalDep,
    settings: SettingsDep,
) -> Any:
    """Starts a case of a clause, e.g. "termination notice received today".

    The facts are checked against the clause's rulebook before anything starts.
    The workflow id is the case id and is derived from the Idempotency-Key, so
    sending the same request again returns the same case and starts nothing.
    """
    idempotency_key = request.headers.get(IDEMPOTENCY_KEY)
    key_errors = idempotency_key_errors(idempotency_key)
    if key_errors or idempotency_key is None:
        errors = await start_errors(contract_id, body.clause, body.facts)
        raise HTTPException(422, errors + key_errors)
    opened = await open_case(
        client, settings, contract_id, body.clause, body.facts, idempotency_key, body.owner_email
    )
    response.status_code = opened.status
    if opened.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return opened.body
