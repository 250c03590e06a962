"""The start-up check of production settings: development defaults and secrets are refused.

``check_production_settings(settings)`` returns the problems, one sentence each,
naming the variable to set; an empty list means the settings may run in production.
In development it returns nothing: the embedded defaults exist for a laptop.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
from pathlib import Path
from urllib.parse import urlsplit

from runtime.settings import STATE_DIR, Settings

#: Key ids of development keys (``make dev`` generates ``dev-...``) start with this.
DEV_KEY_PREFIX = "dev-"
#: Codec tokens shorter than this are guessable.
MIN_TOKEN_LENGTH = 24


def _payload_key_ids(settings: Settings) -> tuple[list[str], str | None]:
    """The key ids configured for payload encryption, and a problem reading them."""
    source = settings.payload_encryption_keys
    if not source:
        path = Path(settings.payload_key_file)
        if not path.is_file():
            return [], None
        try:
            source = path.read_text(encoding="utf-8")
        except OSError as exc:
            return [], f"PAYLOAD_KEY_FILE {path} cannot be read: {exc.strerror}"
    ids: list[str] = []
    # The format of runtime/codec.py: "id:base64key" entries, by comma or line; "#" comments.
    lines = [line for line in source.splitlines() if not line.strip().startswith("#")]
    for entry in (e.strip() for line in lines for e in line.split(",")):
        if not entry:
            continue
        key_id, sep, encoded = entry.partition(":")
        if not sep or not key_id.strip():
            return ids, "payload keys must be written 'id:base64key,...'"
        try:
            key = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError):
            key = b""
        if len(key) != 32:
            return ids, f"payload key {key_id.strip()} is not a base64 256-bit (32-byte) key"
        ids.append(key_id.strip())
    return ids, None


def _in_state_dir(path: str) -> bool:
    resolved = Path(path).resolve()
    return resolved.is_relative_to(STATE_DIR.resolve())


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_production_settings(settings: Settings) -> list[str]:
    """Problems that make ``settings`` unfit for production; none in development.

    Args:
        settings: The process's settings.

    Returns:
        One sentence per problem, naming the environment variable to change.
    """
    if settings.environment != "production":
        return []
    problems: list[str] = []

    url = settings.database_url
    if url.startswith("sqlite"):
        problems.append(
            "DATABASE_URL is SQLite: production needs PostgreSQL "
            "(postgresql://user:password@host:5432/clauseflow)"
        )
    elif not (url.startswith("postgresql://") or url.startswith("postgresql+")) and not (
        url.startswith("postgres://")
    ):
        problems.append(f"DATABASE_URL uses {urlsplit(url).scheme!r}: production needs PostgreSQL")

    if not settings.sendgrid_api_key:
        problems.append(
            "SENDGRID_API_KEY is not set: notices would only be written to the outbox "
            "and no party would receive them"
        )
    if not settings.sendgrid_webhook_public_key:
        problems.append(
            "SENDGRID_WEBHOOK_PUBLIC_KEY is not set: every delivery event would be refused, "
            "so bounces would go unnoticed"
        )

    key_ids, key_problem = _payload_key_ids(settings)
    if key_problem:
        problems.append(key_problem)
    elif not key_ids:
        problems.append(
            "no payload encryption keys: set PAYLOAD_ENCRYPTION_KEYS (or PAYLOAD_KEY_FILE) "
            "so that Customer Data in workflow histories is encrypted (MSA §6)"
        )
    dev_ids = [k for k in key_ids if k.startswith(DEV_KEY_PREFIX)]
    if dev_ids:
        problems.append(
            f"payload key {', '.join(dev_ids)} is a development key (id '{DEV_KEY_PREFIX}...'): "
            "use keys generated for production and kept outside the repository"
        )
    if not settings.payload_encryption_keys and _in_state_dir(settings.payload_key_file):
        problems.append(
            f"PAYLOAD_KEY_FILE is {settings.payload_key_file}, the development key file: "
            "point it at the production key file or set PAYLOAD_ENCRYPTION_KEYS"
        )

    token = settings.codec_auth_token
    if not token:
        problems.append(
            "CODEC_AUTH_TOKEN is not set: the codec endpoint would decrypt payloads "
            "for anyone who can reach it"
        )
    elif len(token) < MIN_TOKEN_LENGTH:
        problems.append(f"CODEC_AUTH_TOKEN is shorter than {MIN_TOKEN_LENGTH} characters")
    if "*" in _origins(settings):
        problems.append("CODEC_CORS_ORIGINS is '*': name the Temporal Web UI's origin")
    if settings.notice_from_email.endswith("@clauseflow.example.com"):
        problems.append(
            "NOTICE_FROM_EMAIL is the example sender: set the address notices are sent from "
            "(a domain verified with SendGrid)"
        )
    if settings.sendgrid_host.rstrip("/") != "https://api.sendgrid.com":
        host = urlsplit(settings.sendgrid_host).hostname or ""
        if _is_loopback(host) or not settings.sendgrid_host.startswith("https://"):
            problems.append(
                f"SENDGRID_HOST is {settings.sendgrid_host}: production sends through "
                "https://api.sendgrid.com"
            )
    return problems


def _origins(settings: Settings) -> list[str]:
    return [o.strip() for o in settings.codec_cors_origins.split(",") if o.strip()]


def production_warnings(settings: Settings) -> list[str]:
    """Settings that are legitimate in some deployments but worth a look; never fatal.

    The API binding to every interface is one: a container must (``API_HOST=0.0.0.0``),
    and the address cannot tell whether a private network or an authenticating proxy
    stands in front. The REST API has no authentication of its own, so the warning
    says what must be true.
    """
    if settings.environment != "production":
        return []
    warnings: list[str] = []
    if settings.api_host in ("0.0.0.0", "::", ""):
        warnings.append(
            f"API_HOST is {settings.api_host or 'empty'} (every interface): the REST API has "
            "no authentication of its own; expose it only on a private network or behind an "
            "authenticating proxy"
        )
    origins = _origins(settings)
    if origins and all(_is_loopback(urlsplit(o).hostname or "") for o in origins):
        warnings.append(
            "CODEC_CORS_ORIGINS names only local addresses: the Web UI can decode payloads "
            "only when opened on this machine"
        )
    if _is_loopback(urlsplit(settings.temporal_ui_url).hostname or ""):
        warnings.append(
            "TEMPORAL_UI_URL points at this machine: case pages link to the Web UI there"
        )
    if settings.log_format != "json":
        warnings.append("LOG_FORMAT is text: log collectors expect JSON, one object per line")
    return warnings


def enforce_production_settings(settings: Settings) -> None:
    """Logs the warnings, and exits naming every problem when there is one.

    The one call a process makes at start-up (``clauseflow worker``, the API).

    Raises:
        SystemExit: With the problems, one per line, when the settings are unfit.
    """
    import logging

    log = logging.getLogger("clauseflow.config")
    for warning in production_warnings(settings):
        log.warning("configuration: %s", warning)
    problems = check_production_settings(settings)
    if problems:
        lines = "\n".join(f"  - {p}" for p in problems)
        raise SystemExit(f"Clauseflow refuses to start in production:\n{lines}")
