"""What a worker builds once rather than once per case: the payload schemas, the
workflow module's bytecode, and no trip into a sandbox to encrypt a payload (issue 14)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec, SerializationContext, WithSerializationContext

import workflows.case
from runtime.settings import WORKER_CACHED_WORKFLOWS, Settings
from runtime.temporal import DATA_CONVERTER, data_converter
from workers import temporal as worker_build


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


def test_the_workflow_module_is_compiled_once_for_the_sandbox_to_load(tmp_path: Path) -> None:
    source = Path(workflows.case.__file__)
    cached = Path(importlib.util.cache_from_source(str(source)))
    if cached.exists():
        cached.unlink()
    worker_build.compile_workflow_modules()
    assert cached.exists() and cached.stat().st_mtime >= source.stat().st_mtime


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
