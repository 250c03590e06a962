"""FastAPI dependencies: the database session and the Temporal client."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlmodel import Session
from temporalio.client import Client

from runtime.settings import Settings, get_settings
from store.db import get_engine


def get_session() -> Iterator[Session]:
    with Session(get_engine(), expire_on_commit=False) as session:
        yield session


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
