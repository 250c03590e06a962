"""Connecting to Temporal, the same way in every process: the API, the worker, the CLI.

The data converter (pydantic, with every payload encrypted by runtime.codec) and
Clauseflow's search attributes live here, below both the API and the worker: the API
connects and reaches cases by name without loading the workflow or its activities.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Iterable
from typing import Any

from temporalio.client import Client
from temporalio.contrib.pydantic import PydanticJSONPlainPayloadConverter
from temporalio.converter import (
    CompositePayloadConverter,
    DataConverter,
    DefaultFailureConverterWithEncodedAttributes,
    DefaultPayloadConverter,
    JSONPlainPayloadConverter,
)
from temporalio.runtime import Runtime

from runtime.codec import EncryptionCodec
from runtime.settings import Settings, get_settings

#: One per process: its pydantic type adapters (a schema built per payload type) are
#: kept for the life of the process. The SDK makes a payload converter for every
#: workflow it runs; with the SDK's own class each began with an empty cache and built
#: the schemas of its input, state and activity results again (9% of a worker's time).
_SHARED_JSON = PydanticJSONPlainPayloadConverter()


def warm_payload_types(hints: Iterable[Any]) -> None:
    """Builds the shared type adapters of ``hints`` now, outside any workflow sandbox.

    A workflow module passed through the sandbox does not import its payload types'
    modules inside it, where pydantic would look for them to resolve the types'
    annotations; built here, they are found in the cache and never resolved there.
    """
    for hint in hints:
        if hint is not None and hint is not inspect.Parameter.empty:
            _SHARED_JSON._type_adapter(hint)


class PydanticPayloadConverter(CompositePayloadConverter):
    """The SDK's pydantic payload converter, sharing one type-adapter cache per process.

    Payloads are the same bytes as ``temporalio.contrib.pydantic``'s converter writes.
    """

    def __init__(self) -> None:
        super().__init__(
            *(
                _SHARED_JSON if isinstance(c, JSONPlainPayloadConverter) else c
                for c in DefaultPayloadConverter.default_encoding_payload_converters
            )
        )


#: Dates and datetimes in workflow payloads need the pydantic converter. Without
#: encryption: it reads the recorded (unencrypted) test histories. Processes that talk
#: to a Temporal server use `data_converter()`.
DATA_CONVERTER = DataConverter(payload_converter_class=PydanticPayloadConverter)

SEARCH_ATTRIBUTES = {"ContractId": "Keyword", "Clause": "Keyword", "CaseState": "Keyword"}


async def register_search_attributes(client: Client, namespace: str = "default") -> None:
    """Registers Clauseflow's search attributes (the dev CLI does this itself at start)."""
    from temporalio.api.enums.v1 import IndexedValueType
    from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest

    await client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=namespace,
            search_attributes={
                name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD for name in SEARCH_ATTRIBUTES
            },
        )
    )


def encrypting_converter(codec: EncryptionCodec) -> DataConverter:
    """`DATA_CONVERTER` with ``codec`` on every payload.

    Failure messages and stack traces move into an encoded (hence encrypted) payload
    too: an error message may quote Customer Data.
    """
    return dataclasses.replace(
        DATA_CONVERTER,
        payload_codec=codec,
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


def data_converter(settings: Settings | None = None) -> DataConverter:
    """Clauseflow's data converter, encrypting with the configured payload keys.

    Raises:
        runtime.codec.PayloadKeyError: No key, malformed keys, or a development key in
            production.
    """
    return encrypting_converter(EncryptionCodec.from_settings(settings or get_settings()))


async def connect(settings: Settings | None = None, runtime: Runtime | None = None) -> Client:
    """A Temporal client with Clauseflow's encrypting data converter.

    The API and the worker both connect here, so both use the same codec.
    """
    settings = settings or get_settings()
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(settings),
        runtime=runtime,
    )
