"""A starting worker waits for Temporal (restarting, or not up yet) instead of exiting."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from runtime.settings import get_settings
from workers import worker


async def test_a_worker_started_while_temporal_is_down_connects_once_it_answers(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    attempts: list[float] = []
    pauses: list[float] = []

    async def refused_twice(settings: Any, runtime: Any) -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise RuntimeError("Failed client connect: Connection refused")
        return "client"

    async def no_wait(seconds: float) -> None:
        pauses.append(seconds)

    monkeypatch.setattr(worker, "connect", refused_twice)
    monkeypatch.setattr(worker.asyncio, "sleep", no_wait)
    with caplog.at_level(logging.WARNING, logger="clauseflow.worker"):
        client = await worker.connect_when_ready(get_settings(), runtime=None)  # type: ignore[arg-type]
    assert client == "client" and len(attempts) == 3
    assert pauses == [0.5, 1.0]  # backing off
    assert "is not answering" in caplog.text and "trying again" in caplog.text


async def test_a_worker_gives_up_when_temporal_never_answers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def refused(settings: Any, runtime: Any) -> str:
        raise RuntimeError("Failed client connect: Connection refused")

    monkeypatch.setattr(worker, "connect", refused)
    monkeypatch.setattr(worker, "CONNECT_WAIT", 0.3)
    with pytest.raises(RuntimeError, match="Connection refused"):
        await worker.connect_when_ready(get_settings(), runtime=None)  # type: ignore[arg-type]
