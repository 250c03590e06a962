"""Logging for every Clauseflow process: one JSON object per line, without personal data.

``configure_logging(settings)`` installs a root handler whose lines carry
``timestamp``, ``level``, ``logger``, ``message`` and, when known, ``case_id`` and
``workflow_id`` (a case id *is* its workflow id). The ids come from, in order:

- ``extra={"case_id": ...}`` on the log call;
- Temporal's ``activity.logger`` / ``workflow.logger``, which attach the running
  activity's or workflow's info (``temporal_activity`` / ``temporal_workflow``);
- any log call made while an activity runs (its ``activity.info()``);
- ``log_context(case_id=...)``, a context variable for the API's request handlers.

Only those fields are written: other ``extra`` values are dropped, so a stray
``extra={"facts": ...}`` cannot leak a case's facts into the logs. Facts and term
sheets must not be logged at all; as a safety net, ``PersonalDataFilter`` replaces
e-mail addresses and registered party names in messages and tracebacks.

The JSON comes from python-json-logger. uvicorn's loggers (its access and error logs)
write through the same handler: ``configure_logging`` hands them over when the API
starts, and ``uvicorn_logging.json`` beside this module, given to uvicorn as
``--log-config``, installs the handler before uvicorn says anything. An access line
also carries the request's ``method``, ``path`` and ``status``.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import logging
import re
import sys
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pythonjsonlogger.json import JsonFormatter as _LibraryJsonFormatter

from runtime.settings import Settings

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
_IDS = ("case_id", "workflow_id", "run_id", "activity_type", "workflow_type")
#: uvicorn's loggers: its error log ("uvicorn", "uvicorn.error") and its access log.
_UVICORN = ("uvicorn", "uvicorn.error", "uvicorn.access")
#: Where ``PersonalDataFilter`` leaves an access line's request fields for the formatter.
_ACCESS = "clauseflow_access"
#: The ``--log-config`` every uvicorn command line gives (workers/dev.py, the image).
UVICORN_LOG_CONFIG = Path(__file__).with_name("uvicorn_logging.json")
_context: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "clauseflow_log_context", default=None
)


@contextlib.contextmanager
def log_context(**ids: str) -> Iterator[None]:
    """Adds ids (``case_id``, ``workflow_id``) to every log line inside the block."""
    token = _context.set({**(_context.get() or {}), **ids})
    try:
        yield
    finally:
        _context.reset(token)


def _temporal_ids(record: logging.LogRecord) -> dict[str, str]:
    ids: dict[str, str] = {}
    for attr in ("temporal_workflow", "temporal_activity"):
        info = getattr(record, attr, None)
        if isinstance(info, dict):
            for key in ("workflow_id", "run_id", "activity_type", "workflow_type"):
                if info.get(key):
                    ids.setdefault(key, str(info[key]))
    if "workflow_id" not in ids:
        # Any logger used inside an activity (not just activity.logger).
        from temporalio import activity

        if activity.in_activity():
            info = activity.info()
            ids.update(
                workflow_id=info.workflow_id or "",
                run_id=info.workflow_run_id or "",
                activity_type=info.activity_type,
            )
    return {k: v for k, v in ids.items() if v}


class PersonalDataFilter(logging.Filter):
    """Redacts e-mail addresses and known party names from messages and tracebacks.

    A safety net, not a licence: code must not log facts or term sheets.
    """

    def __init__(self, names: Iterable[str] = ()) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._names: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self.add_names(names)

    def add_names(self, names: Iterable[str]) -> None:
        """Registers party names to redact (e.g. every contract's customer and provider)."""
        with self._lock:
            # Short strings would redact ordinary words; party names are longer.
            self._names.update(n.strip() for n in names if n and len(n.strip()) >= 4)
            if self._names:
                alternatives = sorted(self._names, key=len, reverse=True)
                self._pattern = re.compile(
                    "|".join(re.escape(n) for n in alternatives), re.IGNORECASE
                )

    def redact(self, text: str) -> str:
        """``text`` with e-mail addresses and party names replaced."""
        text = _EMAIL.sub("[email]", text)
        pattern = self._pattern
        return pattern.sub("[party]", text) if pattern is not None else text

    def filter(self, record: logging.LogRecord) -> bool:
        access = _access_fields(record)
        if access is not None:
            access["path"] = self.redact(access["path"])
            setattr(record, _ACCESS, access)
        record.msg = self.redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        # The traceback is now in exc_text, redacted; stop formatters re-rendering it.
        record.exc_info = None
        return True


def _access_fields(record: logging.LogRecord) -> dict[str, Any] | None:
    """An access line's request fields, from the arguments uvicorn logs it with."""
    if record.name != "uvicorn.access" or not isinstance(record.args, tuple):
        return None
    if len(record.args) != 5:  # (client, method, path with query, HTTP version, status)
        return None
    _, method, path, _, status = record.args
    return {"method": str(method), "path": str(path), "status": status}


class JsonFormatter(_LibraryJsonFormatter):
    """One JSON object per line (python-json-logger) with a fixed set of fields."""

    def __init__(self) -> None:
        super().__init__(
            ("levelname", "name", "message"),
            rename_fields={"levelname": "level", "name": "logger", "exc_info": "exception"},
            json_ensure_ascii=False,
        )

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        found: dict[str, Any] = {}
        super().add_fields(found, record, message_dict)
        # UTC to the millisecond, first, as the lines always began.
        log_data["timestamp"] = dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
            timespec="milliseconds"
        )
        # Only these: the library would also write every extra value (facts, say).
        log_data.update({key: found[key] for key in ("level", "logger", "message")})
        log_data.update(_ids(record))
        log_data.update(getattr(record, _ACCESS, None) or _access_fields(record) or {})
        if found.get("exception"):
            log_data["exception"] = found["exception"]


class TextFormatter(logging.Formatter):
    """Human-readable lines for development, with the case id when known."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        case_id = _ids(record).get("case_id")
        return f"{text} [case {case_id}]" if case_id else text


def _ids(record: logging.LogRecord) -> dict[str, str]:
    ids = {k: str(v) for k, v in (_context.get() or {}).items() if k in _IDS and v}
    for key, value in _temporal_ids(record).items():
        ids.setdefault(key, value)
    for key in _IDS:
        given = getattr(record, key, None)
        if given:
            ids[key] = str(given)
    # Every Clauseflow workflow is a case whose id is the workflow id.
    if "workflow_id" in ids:
        ids.setdefault("case_id", ids["workflow_id"])
    return ids


#: The process's redaction filter; register party names on it with ``add_party_names``.
PERSONAL_DATA_FILTER = PersonalDataFilter()


def add_party_names(names: Iterable[str]) -> None:
    """Adds party names to redact from every log line of this process."""
    PERSONAL_DATA_FILTER.add_names(names)


def configure_logging(settings: Settings, stream: Any = None) -> logging.Handler:
    """Installs the process's one root handler (JSON or text, at ``settings.log_level``).

    Calling it again replaces the handler it installed before.

    Args:
        settings: ``log_format`` (json or text) and ``log_level``.
        stream: Where lines go; standard error by default.

    Returns:
        The handler, so that tests can remove it.
    """
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_clauseflow", False)]:
        root.removeHandler(old)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler._clauseflow = True  # type: ignore[attr-defined]
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else TextFormatter())
    handler.addFilter(PERSONAL_DATA_FILTER)
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    # uvicorn's own handlers write plain text: its access and error lines come here instead.
    for name in _UVICORN:
        server = logging.getLogger(name)
        for old in list(server.handlers):
            server.removeHandler(old)
        server.propagate = True
    # Alembic and httpx are chatty at INFO and say nothing an operator needs.
    for noisy in ("alembic", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return handler


def uvicorn_log_handler() -> logging.Handler:
    """The root handler, from the settings: what ``uvicorn_logging.json`` makes uvicorn install.

    uvicorn applies its ``--log-config`` before it imports the app, so its first lines
    (the server process started, an app that fails to import) are JSON as well.
    """
    from runtime.settings import get_settings

    return configure_logging(get_settings())
