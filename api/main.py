"""The FastAPI application: REST API (and, later, the ops console and webhooks)."""

from __future__ import annotations

from fastapi import FastAPI

from api import errors
from api.routes import cases, clauses, contracts, notices, service_levels, webhooks


def create_app() -> FastAPI:
    """Builds the app. The Temporal client is connected on first use."""
    app = FastAPI(
        title="Clauseflow",
        summary="Runs the deadlines of commercial contracts as durable cases.",
        version="0.1.0",
    )
    errors.install(app)
    for module in (contracts, cases, notices, clauses, service_levels, webhooks):
        app.include_router(module.router)

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        """The API process is alive."""
        return {"status": "ok"}

    return app


app = create_app()
