"""schemathesis against the API's own OpenAPI schema: no 5xx, no answer outside the schema.

Design: the API runs in-process, exactly as in the ``api`` fixture (tests/api/conftest.py):
one event loop holds the Temporal client, its worker and an ``httpx.AsyncClient`` over
``httpx.ASGITransport``. schemathesis and Hypothesis are synchronous, so each operation's
Hypothesis run goes to a thread (``asyncio.to_thread``) while the test's event loop keeps
running the worker; every generated request is handed back to that loop with
``asyncio.run_coroutine_threadsafe`` and its ``httpx.Response`` is checked with
``case.validate_response``. One loop, one client, no socket, no second Temporal client.

Every operation in the schema is tested except those listed in ``EXCLUDED``, each with
the reason. Each operation gets a bounded, derandomized (fixed seed) number of positive
and negative examples, half of them with path parameters that name things that exist
(the reference contract, a running case and its notice) so that the bodies reach the
route's logic instead of its 404.

Authentication: every generated request carries ``AUTH_HEADERS``, an admin token made
for each database by the ``served`` fixture, so that requests reach the routes' logic.
Who may do what is tested in tests/api/test_access.py. The users and tokens endpoints
run here too, on a user and a token of their own (never the admin token itself, which
a DELETE would revoke for every later request).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from runtime.codec import EncryptionCodec, parse_keys
from runtime.settings import get_settings
from runtime.temporal import encrypting_converter, register_search_attributes
from tests.api.conftest import bearer, issue_token
from tests.conftest import TEST_PAYLOAD_KEYS, use_database
from tests.workflows.helpers import eventually, notices, seed_reference_contract
from workers.temporal import build_worker

#: Headers every generated request carries: ``{"Authorization": "Bearer <admin token>"}``,
#: filled in by the ``served`` fixture once its database exists.
AUTH_HEADERS: dict[str, str] = {}

#: Examples per operation and generation mode (positive, negative): 2 x 20 requests each.
MAX_EXAMPLES = 20

BASE_URL = "http://clauseflow.test"

#: Seconds one request may take. The API answers in milliseconds here; a request that
#: waits on a stuck case must fail the test, not hang it.
REQUEST_TIMEOUT = 20

#: Operations left out, each with why. Nothing else is.
EXCLUDED = {
    # Needs a valid SendGrid Event Webhook signature: random bodies can only get its 403.
    # Covered by tests/api/test_webhooks.py against the spec-validating SendGrid mock.
    "POST /webhooks/sendgrid": "signed SendGrid webhook, tested in tests/api/test_webhooks.py",
    # The Temporal Web UI's codec endpoint: needs the codec token and the Web UI's
    # payload format. Covered by tests/api/test_codec_endpoint.py.
    "POST /codec/decode": "codec token, tested in tests/api/test_codec_endpoint.py",
    "POST /codec/encode": "codec token, tested in tests/api/test_codec_endpoint.py",
}

SCHEMA = schemathesis.openapi.from_dict(create_app().openapi())
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]
TESTED = [op for op in OPERATIONS if op.label not in EXCLUDED]


def _negatable(operation: Any) -> bool:
    """Negative examples need something the schema can forbid: a body, a query parameter
    or a header. A string path parameter accepts every value, so an operation with only
    those has no negative examples (Hypothesis would report it unsatisfiable)."""
    return bool(list(operation.body) or list(operation.query) or list(operation.headers))


#: (operation, mode): positive examples for every tested operation, negative ones for
#: every operation that has something to negate.
RUNS = [(op, GenerationMode.POSITIVE) for op in TESTED] + [
    (op, GenerationMode.NEGATIVE) for op in TESTED if _negatable(op)
]

CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
]

BIN = Path(sys.executable).parent


@dataclass
class ServedAPI:
    """The in-process API and the loop its Temporal client and worker live on."""

    client: httpx.AsyncClient
    loop: asyncio.AbstractEventLoop
    #: Path parameter values that name things that exist.
    known: dict[str, str] = field(default_factory=dict)

    #: The first request that got no answer in time; later ones fail at once, so that a
    #: stuck case costs one timeout, not one per example and shrinking step.
    hung: str | None = None

    def send(self, kwargs: dict[str, Any], curl: str) -> httpx.Response:
        """Sends one generated request on the API's loop (called from Hypothesis's thread)."""
        if self.hung is not None:
            raise AssertionError(f"not sent: an earlier request hung: {self.hung}")
        future = asyncio.run_coroutine_threadsafe(self._send(kwargs), self.loop)
        try:
            return future.result(timeout=REQUEST_TIMEOUT)
        except TimeoutError:
            future.cancel()
            self.hung = curl
            raise AssertionError(f"no answer in {REQUEST_TIMEOUT} s: {curl}") from None

    async def _send(self, kwargs: dict[str, Any]) -> httpx.Response:
        kwargs = dict(kwargs)
        data = kwargs.pop("data", None)
        files = kwargs.pop("files", None)
        if files is not None:
            # An upload (multipart), in requests' terms: requests writes the body as
            # schemathesis means it (its own transport is requests), and httpx sends it.
            prepared = requests.Request(
                kwargs["method"], kwargs["url"], files=files, data=data or None
            ).prepare()
            kwargs["headers"] = {
                **{
                    k: v
                    for k, v in kwargs.get("headers", {}).items()
                    if k.lower() != "content-type"
                },
                "Content-Type": prepared.headers["Content-Type"],
            }
            data = prepared.body
        if data is not None:
            kwargs["content" if isinstance(data, bytes | str) else "data"] = data
        cookies = kwargs.pop("cookies", None)
        if cookies:  # httpx deprecates per-request cookies: send them as the header
            kwargs.setdefault("headers", {})["Cookie"] = "; ".join(
                f"{k}={v}" for k, v in cookies.items()
            )
        unknown = set(kwargs) - {"method", "url", "headers", "params", "json", "content"}
        assert not unknown, f"request arguments this test does not translate to httpx: {unknown}"
        return await self.client.request(**kwargs)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
async def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ServedAPI]:
    """The `api` fixture's wiring, once per module and database (as tests/api runs on
    SQLite and PostgreSQL): a migrated database with the reference contract, a
    time-skipping Temporal server, a worker, and a running case with a notice."""
    with pytest.MonkeyPatch.context() as mp:
        use_database(request.param, request, tmp_path_factory.mktemp("schemathesis"), mp)
        mp.setenv("TEMPORAL_TASK_QUEUE", f"test-{uuid.uuid4().hex[:8]}")
        get_settings.cache_clear()
        env = await WorkflowEnvironment.start_time_skipping(
            data_converter=encrypting_converter(EncryptionCodec(parse_keys(TEST_PAYLOAD_KEYS))),
            test_server_existing_path=str(BIN / "temporal-test-server"),
        )
        try:
            await register_search_attributes(env.client)
            async with build_worker(env.client, task_queue=get_settings().temporal_task_queue):
                app = create_app()
                app.state.temporal = env.client
                seed_reference_contract()
                AUTH_HEADERS.clear()
                AUTH_HEADERS.update(bearer(issue_token("admin", "schemathesis")))
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
                    yield ServedAPI(
                        client, asyncio.get_running_loop(), await _existing_things(client)
                    )
        finally:
            await env.shutdown()


async def _existing_things(client: httpx.AsyncClient) -> dict[str, str]:
    """Starts one case and waits for its acknowledgement notice; returns their ids."""
    received = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat()
    r = await client.post(
        "/api/contracts/ctr_reference_msa/cases",
        json={
            "clause": "termination_for_convenience",
            "facts": {"notice_received_at": received, "given_by": "customer"},
        },
        headers={"Idempotency-Key": "schemathesis-seed", **AUTH_HEADERS},
    )
    assert r.status_code == 201, r.text
    case_id = r.json()["id"]
    notice = (await eventually(lambda: notices(case_id)))[0]
    user = await client.post(
        "/api/users",
        json={"email": "fuzzed@provider.example", "role": "viewer", "password": "x" * 12},
        headers=AUTH_HEADERS,
    )
    assert user.status_code == 201, user.text
    token = await client.post(
        "/api/tokens", json={"name": "fuzzed", "role": "viewer"}, headers=AUTH_HEADERS
    )
    assert token.status_code == 201, token.text
    return {
        "user_id": user.json()["id"],
        "token_id": token.json()["id"],
        "contract_id": "ctr_reference_msa",
        "case_id": case_id,
        "notice_id": notice.id,
        "notice": notice.notice,
        "notice_key": notice.notice_key,
    }


def _strategy(operation: Any, mode: GenerationMode, known: dict[str, str]) -> Any:
    names = {p.name for p in operation.path_parameters}
    generated = operation.as_strategy(generation_mode=mode)
    if not names:
        return generated
    existing = operation.as_strategy(
        generation_mode=mode, path_parameters={n: known[n] for n in names if n in known}
    )
    return st.one_of(generated, existing)


def _run_examples(served: ServedAPI, operation: Any, mode: GenerationMode) -> None:
    """Hypothesis, in a worker thread: generate, send on the API's loop, check."""

    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @given(case=_strategy(operation, mode, served.known))
    def check(case: Any) -> None:
        kwargs = case.as_transport_kwargs(base_url=BASE_URL, headers=AUTH_HEADERS)
        curl = case.as_curl_command(headers=AUTH_HEADERS)
        try:
            response = served.send(kwargs, curl)
        except Exception as exc:  # the app raised (a 500, with its traceback), or hung
            exc.add_note(f"Reproduce with: {curl}")
            raise
        case.validate_response(response, checks=CHECKS, headers=AUTH_HEADERS)

    check()


@pytest.mark.parametrize(
    ("operation", "mode"), RUNS, ids=[f"{op.label}-{mode.value}" for op, mode in RUNS]
)
async def test_every_operation_answers_without_5xx_and_within_its_schema(
    served: ServedAPI, operation: Any, mode: GenerationMode
) -> None:
    await asyncio.to_thread(_run_examples, served, operation, mode)


def test_every_excluded_operation_exists_in_the_schema() -> None:
    """An exclusion that outlives its operation would hide nothing, silently."""
    labels = {op.label for op in OPERATIONS}
    assert set(EXCLUDED) <= labels, f"no such operations: {set(EXCLUDED) - labels}"
