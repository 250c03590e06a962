"""The FastAPI application: the REST API, webhooks, metrics and the codec endpoint."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import errors
from api.access import document_auth_responses
from api.console import actions as console_actions
from api.console import agreements as console_agreements
from api.console import cases as console_cases
from api.console import clause_forms as console_clause_forms
from api.console import contracts as console_contracts
from api.console import portfolio as console_portfolio
from api.console import registration as console_registration
from api.console import sign_in as console_sign_in
from api.console.helpers import mount_static
from api.limits import BodyLimit
from api.routes import (
    calendar,
    case_notices,
    cases,
    clauses,
    codec,
    contract_cases,
    contracts,
    docs,
    ical,
    notices,
    ops,
    ops_metrics,
    position,
    proposals,
    provenance,
    readiness,
    service_levels,
    users,
    webhooks,
)


@asynccontextmanager
async def _lifespan(_: FastAPI) -> AsyncIterator[None]:
    # A server process (uvicorn) logs JSON and refuses unsafe production settings.
    from runtime.config_check import enforce_production_settings
    from runtime.logging import configure_logging
    from runtime.settings import get_settings

    settings = get_settings()
    configure_logging(settings)
    enforce_production_settings(settings)
    yield


def create_app() -> FastAPI:
    """Builds the app. The Temporal client is connected on first use.

    Every route needs a token (``api.access.require``), the docs included, except
    ``/healthz``, ``/readyz``, the SendGrid webhook and the codec endpoint (their own
    signature or token), the console's sign-in page, static files and calendar feeds (a
    secret URL); ``tests/api/test_access.py`` walks the routes to hold that.
    """
    app = FastAPI(
        lifespan=_lifespan,
        title="Clauseflow",
        summary="Runs the deadlines of commercial contracts as durable cases.",
        version="0.1.0",
        # Served by api/routes/docs.py, behind a token or a console session.
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    errors.install(app)
    # Bodies over MAX_REQUEST_BYTES (MAX_WEBHOOK_BYTES for the webhook) get 413 unread.
    app.add_middleware(BodyLimit)
    # Each router owns its prefix; none includes another, so every one is listed here.
    for module in (
        proposals,  # /api/contracts/proposals, before /api/contracts/{contract_id}
        contracts,
        ops,  # /api/ops
        contract_cases,  # /api/contracts/{contract_id}/cases
        position,  # /api/contracts/{contract_id}/position
        provenance,  # /api/contracts/{contract_id}/provenance
        cases,  # /api/cases
        notices,  # /api/outbox, /api/notices
        case_notices,  # /api/cases/{case_id}/notices
        clauses,
        service_levels,  # /api/contracts/{contract_id}/downtime, .../maintenance-windows
        webhooks,
        users,  # /api/me, /api/users, /api/tokens
        calendar,  # /api/contracts/{contract_id}/calendar-feed
        ical,  # /calendar/{token}.ics
        docs,  # /docs, /redoc, /openapi.json
    ):
        app.include_router(module.router)
    # /console: HTML pages, signed in with a session.
    for console in (
        console_sign_in,
        console_cases,
        console_actions,
        console_portfolio,
        # /console/contracts/new: before the contract page, whose {contract_id} would take it.
        console_registration,
        console_agreements,  # /console/agreements: a contract from the agreement's text
        console_contracts,
        console_clause_forms,  # the contract page's forms: start a case, what if
    ):
        app.include_router(console.router)
    mount_static(app)  # /static: the console's stylesheet and htmx, the docs' assets
    app.include_router(ops_metrics.router)  # /metrics
    app.include_router(readiness.router)  # /readyz
    app.include_router(codec.router)  # /codec/decode, /codec/encode for the Web UI

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        """The API process is alive."""
        return {"status": "ok"}

    document_auth_responses(app)
    return app


app = create_app()
