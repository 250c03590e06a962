"""The activity interceptor keeps a case's failing activity on its row, best effort."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import pytest
from temporalio.exceptions import ApplicationError, CancelledError
from temporalio.testing import ActivityEnvironment
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput

import activities.failures as failures
from activities.failures import ActivityFailureInterceptor
from activities.records import record_step
from tests.activities.test_records import step_input
from tests.workflows.helpers import case_row, seed_reference_contract


class _Next(ActivityInboundInterceptor):
    """The rest of the chain: raises ``error`` or returns "done"."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        if self.error is not None:
            raise self.error
        return "done"


def _env(attempt: int, **changes: Any) -> ActivityEnvironment:
    env = ActivityEnvironment()
    fields: dict[str, Any] = {
        "activity_type": "send_notice",
        "workflow_type": "CaseWorkflow",
        "workflow_id": "case_r",
        "attempt": attempt,
        "is_local": False,
    }
    env.info = dataclasses.replace(env.info, **(fields | changes))
    return env


async def _run(env: ActivityEnvironment, error: BaseException | None = None) -> Any:
    interceptor = ActivityFailureInterceptor().intercept_activity(_Next(error))

    async def call() -> Any:
        return await interceptor.execute_activity(None)  # type: ignore[arg-type]

    return await env.run(call)


@pytest.fixture
def case(db_url: str) -> str:
    seed_reference_contract()
    record_step(step_input())
    return "case_r"


async def test_failed_attempts_are_kept_and_a_success_clears_them(case: str) -> None:
    with pytest.raises(RuntimeError):
        await _run(_env(1), RuntimeError("SendGrid answered 500: internal server error"))
    first = case_row(case)
    assert first is not None and first.failing_activity == "send_notice"
    assert first.failing_attempts == 1 and first.failing_since is not None
    assert first.last_failure == "SendGrid answered 500: internal server error"
    with pytest.raises(RuntimeError):
        await _run(_env(2), RuntimeError("SendGrid unreachable"))
    second = case_row(case)
    assert second is not None and second.failing_attempts == 2
    assert second.failing_since == first.failing_since  # the first failure is kept
    assert second.last_failure == "SendGrid unreachable"
    assert second.last_failure_at is not None and second.last_failure_at >= second.failing_since

    # Another activity's success does not clear it; this one's does.
    assert await _run(_env(1, activity_type="record_step")) == "done"
    assert case_row(case).failing_activity == "send_notice"  # type: ignore[union-attr]
    assert await _run(_env(3)) == "done"
    cleared = case_row(case)
    assert cleared is not None and cleared.failing_activity is None
    assert cleared.failing_attempts == 0 and cleared.failing_since is None
    assert cleared.last_failure is None and cleared.last_failure_at is None


@pytest.mark.parametrize(
    "changes",
    [{"is_local": True}, {"workflow_type": "OtherWorkflow"}],
    ids=["local activity", "other workflow"],
)
async def test_only_regular_activities_of_case_workflows_are_tracked(
    case: str, changes: dict[str, Any]
) -> None:
    with pytest.raises(RuntimeError):
        await _run(_env(4, **changes), RuntimeError("boom"))
    row = case_row(case)
    assert row is not None and row.failing_activity is None and row.failing_attempts == 0


async def test_a_final_failure_ends_the_retries_and_clears_the_columns(case: str) -> None:
    with pytest.raises(RuntimeError):
        await _run(_env(1), RuntimeError("SendGrid answered 500"))
    assert case_row(case).failing_activity == "send_notice"  # type: ignore[union-attr]
    rejected = ApplicationError("notice could not be sent: 400", non_retryable=True)
    with pytest.raises(ApplicationError):
        await _run(_env(2), rejected)
    row = case_row(case)
    assert row is not None and row.failing_activity is None and row.failing_attempts == 0


async def test_a_cancellation_is_not_a_failure(case: str) -> None:
    with pytest.raises(CancelledError):
        await _run(_env(2), CancelledError("retry now"))
    row = case_row(case)
    assert row is not None and row.failing_activity is None


async def test_a_database_error_is_logged_and_never_masks_the_activity_error(
    case: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: object) -> None:
        raise OSError("database is unreachable")

    monkeypatch.setattr(failures, "record_failure", broken)
    monkeypatch.setattr(failures, "clear_failure", broken)
    with caplog.at_level(logging.ERROR, logger="activities.failures"):
        with pytest.raises(ValueError, match="the activity's own error"):
            await _run(_env(1), ValueError("the activity's own error"))
        assert await _run(_env(2)) == "done"
    assert [r.levelno for r in caplog.records if "case_r" in r.getMessage()] == [
        logging.ERROR,
        logging.ERROR,
    ]


async def test_a_first_attempt_that_succeeds_reads_nothing(
    case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Most activities succeed at once: they cost the store nothing here."""
    reads: list[tuple[str, str]] = []
    monkeypatch.setattr(failures, "clear_failure", lambda *args: reads.append(args))
    assert await _run(_env(1)) == "done"
    with pytest.raises(ApplicationError):
        await _run(_env(1), ApplicationError("rejected", non_retryable=True))
    assert reads == []
    assert await _run(_env(2)) == "done"  # after a failed attempt: clear what it recorded
    assert reads == [("case_r", "send_notice")]


async def test_an_activity_retried_now_clears_the_failure_of_the_attempt_running_at_the_retry(
    case: str,
) -> None:
    """retry_now lets a running attempt finish: when it fails after the retry's record
    cleared the row, the activity started again clears it at its first attempt."""
    with pytest.raises(RuntimeError):
        await _run(_env(4), RuntimeError("SendGrid answered 500"))
    assert case_row(case).failing_activity == "send_notice"  # type: ignore[union-attr]
    # An ordinary first attempt leaves it (it reads nothing) ...
    assert await _run(_env(1)) == "done"
    assert case_row(case).failing_activity == "send_notice"  # type: ignore[union-attr]
    # ... the one retry_now started again clears it.
    retried = failures.retried_activity_id("send_notice", 1)
    assert failures.is_retried(retried) and not failures.is_retried("7")
    assert await _run(_env(1, activity_id=retried)) == "done"
    row = case_row(case)
    assert row is not None and row.failing_activity is None and row.failing_attempts == 0
