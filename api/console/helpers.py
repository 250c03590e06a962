"""What the console's pages share: templates, the signed-in user, times in plain words."""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

import jinja2
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from contracts.calendar import describe_deadline, describe_instant

TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "templates" / "console"
STATIC_DIR = Path(__file__).resolve().parents[1] / "static"

#: The double-submit cookie that protects the sign-in form (there is no session yet).
LOGIN_CSRF_COOKIE = "clauseflow_login_csrf"

#: Console pages load only their own script and style; notices show in sandboxed frames.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; frame-src 'self'; frame-ancestors 'none'; "
        "form-action 'self'; base-uri 'none'; object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def countdown(due: dt.datetime, now: dt.datetime) -> str:
    """The time to an instant in words: "in 3 days", "in 5 h", "overdue by 2 h".

    Args:
        due: The instant, timezone-aware.
        now: The current time, timezone-aware.

    Returns:
        The phrase.
    """
    seconds = int((due - now).total_seconds())
    if abs(seconds) < 60:
        return "now"
    span = duration_words(abs(seconds))
    return f"in {span}" if seconds > 0 else f"overdue by {span}"


def ago(instant: dt.datetime, now: dt.datetime) -> str:
    """How long ago an instant was, e.g. "3 days ago" ("just now" within a minute)."""
    seconds = int((now - instant).total_seconds())
    return "just now" if seconds < 60 else f"{duration_words(seconds)} ago"


def duration_words(seconds: int) -> str:
    """A length of time, rounded down to the unit an operator reads: days, hours, minutes."""
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days >= 2:
        return f"{days} days"
    if days == 1:
        return f"1 day {hours} h" if hours else "1 day"
    if hours:
        return f"{hours} h {minutes} min" if hours < 3 and minutes else f"{hours} h"
    return f"{max(minutes, 1)} min"


def local_time(instant: dt.datetime | None, zone: str) -> str:
    """An instant in the contract's time zone, e.g. "Tue 1 Dec 2026 10:00 New York time"."""
    if instant is None:
        return ""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=dt.UTC)
    return describe_instant(instant, zone)


def due_time(instant: dt.datetime | None, zone: str, last_day: dt.date | None = None) -> str:
    """A deadline's due time as people read it: "end of Thu 31 Dec 2026, New York time"
    for one that runs to the end of ``last_day``, else as :func:`local_time`."""
    if instant is None:
        return ""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=dt.UTC)
    return describe_deadline(instant, last_day, zone)


def iso_instant(instant: dt.datetime | None) -> str:
    """An instant in ISO 8601, in UTC, for a ``<time datetime>`` (machines read it)."""
    if instant is None:
        return ""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=dt.UTC)
    return instant.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def local_to_utc(day: dt.date, wall: dt.time, zone: str) -> dt.datetime:
    """A local date and wall time in ``zone`` as a UTC instant (the earlier one if repeated)."""
    return dt.datetime.combine(day, wall, tzinfo=ZoneInfo(zone)).astimezone(dt.UTC)


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a local path only, never another site."""
    if not target:
        return "/console"
    parts = urlsplit(target)
    local = (
        target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and not parts.scheme
        and not parts.netloc
        and all(ord(c) > 31 for c in target)
    )
    return target if local else "/console"


def login_redirect(request: Request) -> HTTPException:
    """A 303 to the sign-in page that comes back to the page asked for."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method != "GET":
        # After signing in, a form post cannot be replayed: go back to its page instead.
        target = request.headers.get("referer", "") or "/console"
        target = urlsplit(target).path or "/console"
    return HTTPException(
        303,
        "sign in to use the console",
        headers={"Location": f"/console/login?next={quote(safe_next(target), safe='')}"},
    )


def new_csrf_token() -> str:
    """A random token for the sign-in form's double-submit cookie."""
    return secrets.token_urlsafe(32)


def same_token(a: str | None, b: str | None) -> bool:
    """Whether two CSRF tokens are present and equal (compared in constant time)."""
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["local"] = local_time
    env.filters["due"] = due_time
    env.filters["iso"] = iso_instant
    env.globals["countdown"] = countdown
    env.globals["ago"] = ago
    return env


TEMPLATES = _environment()


def render(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """Renders a console template as an HTML response with the console's security headers."""
    html = TEMPLATES.get_template(template).render(**context)
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


def mount_static(app: FastAPI) -> None:
    """Serves api/static at /static: the console's stylesheet, htmx and the API docs' assets."""
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
