"""FastAPI dependencies: the database session and the Temporal client.

Sync routes take ``SessionDep``. An async route that also waits on Temporal must not
run database work on the event loop, nor hold a pooled connection while it waits: it
hands each piece of store work to :func:`in_session`, which runs it in a worker thread
with a session of its own, closed before the route awaits anything else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Concatenate, ParamSpec, TypeVar

from fastapi import Depends, HTTPException, Path, Request
from fastapi.concurrency import run_in_threadpool
from sqlmodel import Session
from temporalio.client import Client

from runtime.settings import Settings, get_settings
from store.db import get_engine

P = ParamSpec("P")
T = TypeVar("T")


def _new_session() -> Session:
    return Session(get_engine(), expire_on_commit=False)


def get_session() -> Iterator[Session]:
    with _new_session() as session:
        yield session


async def in_session(
    work: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs
) -> T:
    """``work(session, *args, **kwargs)`` in a worker thread, with a session like
    ``SessionDep``'s that is closed when the work returns."""

    def run() -> T:
        with _new_session() as session:
            return work(session, *args, **kwargs)

    return await run_in_threadpool(run)


async def get_temporal(request: Request) -> Client:
    """The app's Temporal client, connected on first use so the API starts without it."""
    client: Client | None = getattr(request.app.state, "temporal", None)
    if client is None:
        from runtime.codec import PayloadKeyError
        from runtime.temporal import connect

        try:
            client = await connect(get_settings())
        except PayloadKeyError as exc:
            raise HTTPException(503, f"payload encryption is not configured: {exc}") from exc
        except Exception as exc:  # connection refused, bad address, ...
            raise HTTPException(503, f"Temporal is not reachable: {exc}") from exc
        request.app.state.temporal = client
    return client


SessionDep = Annotated[Session, Depends(get_session)]
TemporalDep = Annotated[Client, Depends(get_temporal)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


#: An escalation's id in a path: the store keeps it in a 32-bit integer, so a larger
#: number is a 422 naming the field, not a database error.
EscalationId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The escalation's id")]
