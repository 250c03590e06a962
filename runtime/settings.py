"""All of Clauseflow's configuration, read from the environment (and `.env`)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

#: Where `make dev` keeps its state: the SQLite database, Temporal's file, logs.
STATE_DIR = Path(".clauseflow")
#: Open cases a worker keeps in memory. Each cached case holds its own sandbox; at the
#: SDK's default of 1,000 a worker grew to 0.9 GiB at 2,000 open cases. Chosen from
#: bench/scale (README, benchmarks): 300 holds 245 MiB at 10,000 open cases, and holds
#: every case that is between its start and its sleep when 200 start at once (100 made
#: 30% of them replay their history once to take their next step).
WORKER_CACHED_WORKFLOWS = 300


class Settings(BaseSettings):
    """Configuration for the API, the worker and the dev stack.

    Every field maps to an environment variable of the same name in upper case.
    """

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Literal["development", "production"] = Field(
        default="development",
        description="production refuses development secrets and unsafe defaults at start-up",
    )
    database_url: str = Field(
        default=f"sqlite:///{STATE_DIR / 'clauseflow.db'}",
        description="SQLAlchemy URL of the store; SQLite by default, PostgreSQL in production",
    )
    temporal_address: str = Field(default="127.0.0.1:7233", description="Temporal frontend")
    temporal_namespace: str = "default"
    temporal_task_queue: str = "clauseflow-cases"
    temporal_ui_port: int = Field(default=8233, description="Port of the dev server's Web UI")
    temporal_ui_url: str = Field(
        default="http://127.0.0.1:8233", description="Base URL of the Temporal Web UI for links"
    )
    sendgrid_api_key: str | None = Field(
        default=None, description="When set, notices go out through SendGrid; else to the outbox"
    )
    sendgrid_host: str = Field(
        default="https://api.sendgrid.com", description="SendGrid API host (a mock in tests)"
    )
    sendgrid_webhook_public_key: str | None = Field(
        default=None,
        description="SendGrid's signed-webhook verification key (base64 DER, ECDSA P-256)",
    )
    max_request_bytes: int = Field(
        default=1_048_576,
        ge=1,
        description="Request bodies larger than this (bytes) are refused with 413 before they "
        "are read; the SendGrid webhook has its own limit",
    )
    max_document_bytes: int = Field(
        default=20_000_000,
        ge=1,
        description="The limit (bytes) for an agreement's text sent to be read, as text, "
        "DOCX or PDF (POST /api/contracts/proposals, the console's upload)",
    )
    agreement_draft_days: int = Field(
        default=30,
        ge=1,
        description="Days an uploaded agreement that no one accepted is kept for its "
        "review; then its text is removed (an accepted one stays with its contract)",
    )
    max_webhook_bytes: int = Field(
        default=5_242_880,
        ge=1,
        description="The same for the SendGrid event webhook: SendGrid posts a batch once it "
        "reaches about 768 KB, so 5 MiB leaves room for one that overshoots",
    )
    sendgrid_webhook_max_age_seconds: int = Field(
        default=600, description="Webhook requests with an older timestamp are refused"
    )
    sendgrid_reconcile_settle_seconds: int = Field(
        default=600,
        description="How long after a hand-over SendGrid's Email Activity may still not show a "
        "message; until then 'not found' is not taken as 'not sent'",
    )
    sendgrid_timeout_seconds: float = Field(default=30.0, description="Mail Send request timeout")
    notice_from_email: str = Field(
        default="notices@clauseflow.example.com", description="Sender address of notices"
    )
    notice_from_name: str = "Clauseflow Notices"
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    payload_encryption_keys: str | None = Field(
        default=None,
        description="Keys for Temporal payloads, 'id:base64key,...' (first encrypts; all decrypt)",
    )
    payload_key_file: str = Field(
        default=str(STATE_DIR / "payload.key"),
        description="Where the keys are read from when PAYLOAD_ENCRYPTION_KEYS is unset "
        "(make dev generates a development key there on first start)",
    )
    codec_auth_token: str | None = Field(
        default=None,
        description="Bearer token the Temporal Web UI must send to the codec endpoint",
    )
    codec_cors_origins: str = Field(
        default="http://127.0.0.1:8233,http://localhost:8233",
        description="Web UI origins allowed to call the codec endpoint (comma-separated)",
    )
    worker_metrics_port: int = Field(
        default=9464, description="Port of the worker's Prometheus endpoint (Temporal SDK metrics)"
    )
    worker_cached_workflows: int = Field(
        default=WORKER_CACHED_WORKFLOWS,
        ge=0,
        description="Open cases a worker keeps in memory between their events; more are "
        "replayed from their history when they wake (see the README's benchmarks)",
    )
    stuck_after_attempts: int = Field(
        default=3, description="A case is stuck when one of its activities failed this many times"
    )
    stuck_after_seconds: int = Field(
        default=600, description="... or has been failing for longer than this many seconds"
    )
    amendment_requires_second_approver: bool = Field(
        default=True,
        description="A deadline amendment takes effect only when a second person approves it",
    )
    session_max_age_seconds: int = Field(
        default=12 * 3600, description="How long a console sign-in lasts"
    )
    session_cookie_secure: bool = Field(
        default=False, description="Send the console cookie over HTTPS only (set in production)"
    )
    public_base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="The API's address as users reach it, for calendar feed links",
    )
    log_format: Literal["json", "text"] = Field(default="json", description="Log line format")
    log_level: str = "INFO"


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
