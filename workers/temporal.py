"""Connecting to Temporal and building the worker, the same way in every process."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker

from activities import ACTIVITIES, LOCAL_ACTIVITIES
from store.settings import Settings, get_settings
from workflows.case import CaseWorkflow

#: Dates and datetimes in workflow payloads need the pydantic converter.
DATA_CONVERTER = pydantic_data_converter

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


async def connect(settings: Settings | None = None) -> Client:
    """A Temporal client with Clauseflow's data converter."""
    settings = settings or get_settings()
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=DATA_CONVERTER,
    )


def build_worker(client: Client, task_queue: str | None = None, max_threads: int = 16) -> Worker:
    """The case worker: the generic workflow and every activity.

    Activities are synchronous (the store and SendGrid are blocking clients), so
    they run on a thread pool.
    """
    return Worker(
        client,
        task_queue=task_queue or get_settings().temporal_task_queue,
        workflows=[CaseWorkflow],
        activities=[*ACTIVITIES, *LOCAL_ACTIVITIES],
        activity_executor=ThreadPoolExecutor(max_workers=max_threads),
        max_concurrent_activities=max_threads,
    )
