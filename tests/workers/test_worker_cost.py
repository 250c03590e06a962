"""What a worker builds once rather than once per case: the payload schemas, the
workflow module's bytecode, and no trip into a sandbox to encrypt a payload (issue 14)."""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.converter import PayloadCodec, SerializationContext, WithSerializationContext

import workflows.case
from activities.types import StepRecordInput
from runtime.settings import WORKER_CACHED_WORKFLOWS, Settings
from runtime.temporal import DATA_CONVERTER, data_converter, warm_payload_types
from tests.dates import notice_days_ago
from tests.workflows.helpers import eventually, notices, open_case
from workers import temporal as worker_build
from workflows.case import CaseInput, CaseWorkflow

FACTS = {"notice_received_at": notice_days_ago(3), "given_by": "provider"}


def _json_converter(converter: Any) -> Any:
    return converter.converters[b"json/plain"]


def test_every_workflows_payload_converter_shares_the_processes_schemas() -> None:
    # The SDK makes a converter for every workflow it runs; the schemas are built once.
    first, second = DATA_CONVERTER._new_payload_converter(), DATA_CONVERTER._new_payload_converter()
    inner = [getattr(c, "_inner_payload_converter", c) for c in (first, second)]
    assert _json_converter(inner[0]) is _json_converter(inner[1])
    json = _json_converter(inner[0])
    [payload] = DATA_CONVERTER.payload_converter.to_payloads([{"a": 1}])
    json.from_payload(payload, dict[str, int])
    before = json._type_adapter.cache_info().hits
    _json_converter(inner[1]).from_payload(payload, dict[str, int])
    assert json._type_adapter.cache_info().hits == before + 1


CASE_SOURCE = str(Path(workflows.case.__file__))
#: Names of the code objects of workflows/case.py executed while a test watches; the
#: audit hook cannot be removed, so it is installed once, in the process that needs it.
_executed: list[str] = []
_watching: list[bool] = []


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _watching and event == "exec" and getattr(args[0], "co_filename", "") == CASE_SOURCE:
        _executed.append(args[0].co_name)


@functools.cache
def _install_audit_hook() -> None:
    sys.addaudithook(_audit)


async def test_the_workflow_module_runs_once_per_worker_not_once_per_case(
    worker: Client, task_queue: str
) -> None:
    """The sandbox passes workflows/case.py through: its cases run the module the worker
    imported, and no case executes its module body (classes, dataclasses) again."""
    _install_audit_hook()
    _executed.clear()
    _watching.append(True)
    try:
        for _ in range(2):
            handle = await open_case(worker, task_queue, "termination_for_convenience", FACTS)
            await eventually(lambda h=handle: notices(h.id))
    finally:
        _watching.clear()
    assert _executed == []


def test_a_case_decodes_its_payloads_with_schemas_built_before_any_sandbox() -> None:
    """Passed through, the workflow module's payload types are never imported inside a
    sandbox, where pydantic would resolve their annotations: the worker builds them first."""
    hints = worker_build.payload_types([CaseWorkflow], [*worker_build.ACTIVITIES])
    assert CaseInput in hints and StepRecordInput in hints
    converter = DATA_CONVERTER.payload_converter
    json = _json_converter(getattr(converter, "_inner_payload_converter", converter))
    warm_payload_types(hints)
    before = json._type_adapter.cache_info().misses
    warm_payload_types(hints)
    assert json._type_adapter.cache_info().misses == before


class _PerWorkflowCodec(PayloadCodec, WithSerializationContext):
    """A codec that encodes differently per workflow: the sandbox must be asked."""

    async def encode(self, payloads: Any) -> list[Payload]:
        return list(payloads)

    async def decode(self, payloads: Any) -> list[Payload]:
        return list(payloads)

    def with_context(self, context: SerializationContext) -> _PerWorkflowCodec:
        return self


def test_payload_contexts_are_skipped_only_for_a_codec_that_takes_none(tmp_path: Path) -> None:
    keys = f"test-k:{'A' * 43}="
    ours = data_converter(Settings(_env_file=None, payload_encryption_keys=keys))  # type: ignore[call-arg]
    assert worker_build.takes_no_context(ours)
    per_workflow = DATA_CONVERTER.__class__(
        payload_converter_class=DATA_CONVERTER.payload_converter_class,
        payload_codec=_PerWorkflowCodec(),
    )
    assert not worker_build.takes_no_context(per_workflow)


def test_a_worker_keeps_the_configured_number_of_cases_in_memory() -> None:
    assert Settings(_env_file=None).worker_cached_workflows == WORKER_CACHED_WORKFLOWS  # type: ignore[call-arg]
    assert Settings(_env_file=None, worker_cached_workflows=40).worker_cached_workflows == 40  # type: ignore[call-arg]
