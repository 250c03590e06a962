"""The ``clause`` fixture: a test module's clause, ready to open cases on the test's worker."""

from __future__ import annotations

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from tests.workflows.helpers import Clause


@pytest.fixture
def clause(
    request: pytest.FixtureRequest, time_env: WorkflowEnvironment, worker: Client, task_queue: str
) -> Clause:
    """Cases of the module's ``CLAUSE`` with its ``FACTS``; facts recorded by its
    ``RECORDED_BY`` (else "owner") with its ``REASON`` (else none)."""
    module = request.module
    return Clause(
        time_env,
        task_queue,
        module.CLAUSE,
        getattr(module, "FACTS", {}),
        getattr(module, "RECORDED_BY", "owner"),
        getattr(module, "REASON", None),
    )
