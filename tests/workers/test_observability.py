"""Structured logs without personal data, and the worker's Prometheus endpoint."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import logging
import re
import socket
import urllib.request
from collections.abc import Iterator

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from runtime.logging import add_party_names, log_context
from runtime.observability import DEADLINE_LATENESS, DECISION_LATENCY, worker_runtime
from runtime.settings import Settings
from tests.workers.helpers import json_logs
from tests.workflows.helpers import (
    deadlines,
    eventually,
    seed_reference_contract,
    start_case,
    travel_to,
)
from workers.temporal import build_worker


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    with json_logs("DEBUG") as stream:
        yield stream


def lines(stream: io.StringIO) -> list[dict[str, str]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_log_lines_are_json_objects_with_the_case_id(json_lines: io.StringIO) -> None:
    log = logging.getLogger("clauseflow.test")
    log.info("step %d recorded", 3, extra={"case_id": "case_abc"})
    with log_context(case_id="case_ctx"):
        log.warning("from a request handler")
    # What Temporal's activity.logger attaches to its records.
    log.info(
        "activity done", extra={"temporal_activity": {"workflow_id": "case_wf", "run_id": "r1"}}
    )
    first, second, third = lines(json_lines)
    assert set(first) >= {"timestamp", "level", "logger", "message"}
    assert dt.datetime.fromisoformat(first["timestamp"]).tzinfo is not None
    assert (first["level"], first["logger"], first["message"]) == (
        "INFO",
        "clauseflow.test",
        "step 3 recorded",
    )
    assert first["case_id"] == "case_abc"
    assert second["case_id"] == "case_ctx"
    assert (third["case_id"], third["workflow_id"], third["run_id"]) == ("case_wf", "case_wf", "r1")


def test_log_lines_hold_no_email_address_or_party_name(json_lines: io.StringIO) -> None:
    add_party_names(["Example Enterprise Inc."])
    log = logging.getLogger("clauseflow.test")
    log.info("notice to %s for Example Enterprise Inc.", "legal@customer.example.com")
    try:
        raise ValueError("bounce from dana.whitfield@customer.example.com")
    except ValueError:
        log.exception("send failed")
    # Extra fields other than the ids are never written (a case's facts, say).
    log.info("decided", extra={"facts": {"owner": "owner@customer.example.com"}})
    text = json_lines.getvalue()
    assert "@customer.example.com" not in text
    assert "Example Enterprise" not in text
    notice, failure, decided = lines(json_lines)
    assert notice["message"] == "notice to [email] for [party]"
    assert "ValueError: bounce from [email]" in failure["exception"]
    assert "facts" not in decided


def test_a_line_carries_its_fields_and_no_others(json_lines: io.StringIO) -> None:
    log = logging.getLogger("clauseflow.test")
    log.info("plain", extra={"case_id": "", "owner": "someone"}, stack_info=True)
    try:
        raise ZeroDivisionError("division by zero")
    except ZeroDivisionError:
        log.exception("failed", extra={"case_id": "case_x"})
    plain, failed = lines(json_lines)
    assert list(plain) == ["timestamp", "level", "logger", "message"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", plain["timestamp"])
    assert list(failed) == ["timestamp", "level", "logger", "message", "case_id", "exception"]
    assert failed["exception"].startswith("Traceback (most recent call last):")
    assert failed["exception"].endswith("ZeroDivisionError: division by zero")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        return r.read().decode()


async def _metric_appears(port: int, name: str) -> str:
    async def check() -> str | None:
        text = await asyncio.to_thread(_scrape, port)
        return text if f"\n{name}" in text or text.startswith(name) else None

    for _ in range(100):
        if text := await check():
            return text
        await asyncio.sleep(0.1)
    raise AssertionError(f"{name} never appeared on the worker's /metrics")


async def test_worker_runtime_serves_sdk_and_case_metrics(
    time_env: WorkflowEnvironment, db_url: str, task_queue: str
) -> None:
    port = _free_port()
    runtime = worker_runtime(
        Settings(_env_file=None, worker_metrics_port=port),  # type: ignore[call-arg]
        bind_address=f"127.0.0.1:{port}",
    )
    client = await Client.connect(
        time_env.client.service_client.config.target_host,
        namespace=time_env.client.namespace,
        data_converter=time_env.client.data_converter,
        runtime=runtime,
    )
    seed_reference_contract()
    async with build_worker(client, task_queue=task_queue):
        now = await time_env.get_current_time()
        handle = await start_case(
            client,
            task_queue,
            "termination_for_convenience",
            {"notice_received_at": now.isoformat(), "given_by": "customer"},
        )
        case_id = handle.id
        await eventually(lambda: deadlines(case_id))
        text = await _metric_appears(port, f"{DECISION_LATENCY}_bucket")
        # The SDK's own metrics (polls, task latencies, requests) on the same endpoint.
        assert any(line.startswith("temporal_") for line in text.splitlines())
        assert 'clause="termination_for_convenience",event="case_started"' in text

        # 90-day notice: the 60-days-before reminder is due after 30 days.
        first = deadlines(case_id)["reminder_60"].due_at
        await travel_to(time_env, first.replace(tzinfo=dt.UTC) + dt.timedelta(minutes=1))
        await eventually(lambda: deadlines(case_id)["reminder_60"].status == "reached")
        text = await _metric_appears(port, f"{DEADLINE_LATENESS}_count")
        counts = [x for x in text.splitlines() if x.startswith(f"{DEADLINE_LATENESS}_count")]
        assert len(counts) == 1
        assert 'clause="termination_for_convenience"' in counts[0]
        assert 'deadline="reminder"' in counts[0]
        assert counts[0].endswith(" 1")
