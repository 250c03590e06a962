"""MSA §6: a case's raw history on the real Temporal server holds no plaintext Customer Data."""

from __future__ import annotations

import asyncio

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHistory
from temporalio.testing import WorkflowEnvironment

from runtime.codec import ENCRYPTED_ENCODING
from runtime.temporal import DATA_CONVERTER
from tests.dates import notice_days_ago
from tests.workflows.helpers import eventually, notices, seed_reference_contract, start_case
from workers.seed import reference_term_sheet
from workers.temporal import build_worker
from workflows.case import CaseInput, CaseView, CaseWorkflow

pytestmark = pytest.mark.devserver


def customer_data() -> list[str]:
    """Party names, email addresses and amounts of the reference term sheet."""
    terms = reference_term_sheet()
    dumped = terms.model_dump(mode="json")
    found = [
        dumped["customer"]["name"],
        dumped["customer"]["notice_email"],
        dumped["provider"]["name"],
        dumped["provider"]["notice_email"],
        dumped["owner"]["email"],
        dumped["fees"]["monthly_fee"],
    ]
    assert {"Example Enterprise Inc.", "legal@customer.example.com", "25000.00"} <= set(found)
    return found


def plaintext_found(raw: bytes, text: str) -> list[str]:
    """The Customer Data that appears in ``raw`` or in its JSON rendering ``text``."""
    return [v for v in customer_data() if v.encode() in raw or v in text]


def raw_bytes(history: WorkflowHistory) -> bytes:
    # Binary protobuf holds payload data as it is stored; the JSON form base64-encodes it.
    return b"".join(event.SerializeToString() for event in history.events)


async def test_the_raw_history_of_a_case_holds_no_plaintext_customer_data(
    dev_env: WorkflowEnvironment, db_url: str, task_queue: str
) -> None:
    seed_reference_contract()
    client = dev_env.client  # the tests' clients carry the encrypting converter
    assert client.data_converter.payload_codec is not None
    plain_client = await Client.connect(
        client.service_client.config.target_host,
        namespace=client.namespace,
        data_converter=DATA_CONVERTER,
    )

    # The search itself finds Customer Data in an unencrypted payload.
    [unencrypted] = await DATA_CONVERTER.encode([reference_term_sheet()])
    assert plaintext_found(unencrypted.SerializeToString(), "") == customer_data()

    async with build_worker(client, task_queue=task_queue):
        handle = await start_case(
            client,
            task_queue,
            "termination_for_convenience",
            {"notice_received_at": notice_days_ago(3), "given_by": "customer"},
        )
        # Its first step: rules decided, deadlines set, the acknowledgement rendered.
        await eventually(lambda: notices(handle.id), timeout=30)
        view: CaseView | None = None
        for _ in range(100):
            history = await plain_client.get_workflow_handle(handle.id).fetch_history()
            kinds = {e.event_type for e in history.events}
            if EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED in kinds:
                view = await handle.query(CaseWorkflow.case)
                break
            await asyncio.sleep(0.1)
        assert view is not None and view.state == "notice_period_running"

    raw, text = raw_bytes(history), history.to_json()
    assert plaintext_found(raw, text) == []

    # Every payload in it is encrypted, with the key id on it.
    started = history.events[0].workflow_execution_started_event_attributes
    [sealed] = started.input.payloads
    assert sealed.metadata["encoding"] == ENCRYPTED_ENCODING
    assert sealed.metadata["encryption-key-id"].startswith(b"test-")
    encodings = {p.metadata.get("encoding") for p in _payloads(history)}
    assert len(_payloads(history)) > 3  # input, activity inputs and results, ...
    assert encodings == {ENCRYPTED_ENCODING}, encodings

    # A client without the key cannot read the input; the codec client can.
    with pytest.raises(Exception, match="encoding"):
        await DATA_CONVERTER.decode([sealed], [CaseInput])
    [inp] = await client.data_converter.decode([sealed], [CaseInput])
    assert inp.terms["customer"]["name"] == "Example Enterprise Inc."
    assert inp.terms["customer"]["notice_email"] == "legal@customer.example.com"
    assert inp.terms["fees"]["monthly_fee"] == "25000.00"
    await handle.terminate("encryption test done")


def _payloads(history: WorkflowHistory) -> list[Payload]:
    """Every Payload in the history's events that carries data of the case.

    Left out, because they never pass through a codec: search attributes (the server
    indexes them; they hold ids, the clause and the state), the ``data`` detail of a
    local activity's marker (the SDK's own bookkeeping: sequence number, attempt, activity
    type, times) and the ``patch-data`` of a patch marker (the patch's name). The plaintext
    check above covers them too.
    """
    found: list[Payload] = []

    def walk(message: object) -> None:
        if isinstance(message, Payload):
            found.append(message)
            return
        for field, value in message.ListFields():  # type: ignore[attr-defined]
            if field.message_type is None or field.name == "search_attributes":
                continue
            if field.message_type.GetOptions().map_entry:
                for key, item in value.items():
                    if field.name == "details" and key in ("data", "patch-data"):
                        continue
                    if hasattr(item, "ListFields"):
                        walk(item)
            elif hasattr(value, "ListFields"):
                walk(value)
            else:  # a repeated message field
                for item in value:
                    walk(item)

    for event in history.events:
        walk(event)
    return found
