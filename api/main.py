"""The FastAPI application: the REST API, webhooks, metrics and the codec endpoint."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import errors
from api.routes import cases, clauses, contracts, notices, ops_metrics, service_levels, webhooks
from api.routes import codec as codec_routes


@asynccontextmanager
async def _lifespan(_: FastAPI) -> AsyncIterator[None]:
    # A server process (uvicorn) logs JSON and refuses unsafe production settings.
    from store.config_check import enforce_production_settings
    from store.settings import get_settings
    from workers.logging_setup import configure_logging

    settings = get_settings()
    configure_logging(settings)
    enforce_production_settings(settings)
    yield


def create_app() -> FastAPI:
    """Builds the app. The Temporal client is connected on first use."""
    app = FastAPI(
        lifespan=_lifespan,
        title="Clauseflow",
        summary="Runs the deadlines of commercial contracts as durable cases.",
        version="0.1.0",
    )
    errors.install(app)
    for module in (contracts, cases, notices, clauses, service_levels, webhooks):
        app.include_router(module.router)
    app.include_router(ops_metrics.router)  # /metrics and /readyz
    app.include_router(codec_routes.router)  # /codec/decode, /codec/encode for the Web UI

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        """The API process is alive."""
        return {"status": "ok"}

    return app


app = create_app()
