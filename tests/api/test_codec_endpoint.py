"""The remote codec endpoint the Temporal Web UI calls to show decrypted payloads."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from google.protobuf.json_format import MessageToDict
from temporalio.api.common.v1 import Payload, Payloads

from api.main import create_app
from runtime.codec import ENCRYPTED_ENCODING, EncryptionCodec, format_key, new_key
from runtime.settings import get_settings

TOKEN = "operator-token-for-tests"
UI = "http://127.0.0.1:8233"
KEY = new_key("prod-")
AUTH = {"Authorization": f"Bearer {TOKEN}", "X-Namespace": "default"}


@pytest.fixture
async def codec_api(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[httpx.AsyncClient]:
    monkeypatch.setenv("PAYLOAD_ENCRYPTION_KEYS", format_key(*KEY))
    monkeypatch.setenv("CODEC_AUTH_TOKEN", TOKEN)
    monkeypatch.setenv("CODEC_CORS_ORIGINS", f"{UI},http://localhost:8233")
    monkeypatch.setenv("ENVIRONMENT", "development")
    get_settings.cache_clear()
    transport = httpx.ASGITransport(app=create_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://clauseflow.test") as c:
        yield c
    get_settings.cache_clear()


def as_json(*payloads: Payload) -> dict:
    return MessageToDict(Payloads(payloads=payloads))


def json_payload(value: object) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=json.dumps(value).encode())


def decoded(body: dict) -> list[object]:
    return [json.loads(base64.b64decode(p["data"])) for p in body["payloads"]]


async def test_decode_shows_a_payload_the_workers_codec_encrypted(
    codec_api: httpx.AsyncClient,
) -> None:
    party = {"name": "Example Enterprise Inc.", "notice_email": "legal@customer.example.com"}
    [sealed] = await EncryptionCodec([KEY]).encode([json_payload(party)])
    body = as_json(sealed)
    assert "Example Enterprise" not in json.dumps(body)

    r = await codec_api.post("/codec/decode", json=body, headers=AUTH)
    assert r.status_code == 200, r.text
    [p] = r.json()["payloads"]
    assert base64.b64decode(p["metadata"]["encoding"]) == b"json/plain"
    assert decoded(r.json()) == [party]


async def test_encode_then_decode_round_trips_and_encode_encrypts(
    codec_api: httpx.AsyncClient,
) -> None:
    values = [{"amount": "25000.00"}, "legal@customer.example.com", None]
    r = await codec_api.post(
        "/codec/encode", json=as_json(*map(json_payload, values)), headers=AUTH
    )
    assert r.status_code == 200, r.text
    encoded = r.json()
    assert len(encoded["payloads"]) == 3
    for p in encoded["payloads"]:
        assert base64.b64decode(p["metadata"]["encoding"]) == ENCRYPTED_ENCODING
    assert "25000.00" not in json.dumps(encoded) and "legal@" not in json.dumps(encoded)

    r = await codec_api.post("/codec/decode", json=encoded, headers=AUTH)
    assert r.status_code == 200, r.text
    assert decoded(r.json()) == values


async def test_an_empty_payload_list_answers_an_empty_list(codec_api: httpx.AsyncClient) -> None:
    r = await codec_api.post("/codec/decode", json={"payloads": []}, headers=AUTH)
    assert r.status_code == 200 and r.json() == {"payloads": []}


async def test_decrypted_payloads_need_the_operators_bearer_token(
    codec_api: httpx.AsyncClient,
) -> None:
    [sealed] = await EncryptionCodec([KEY]).encode([json_payload("legal@customer.example.com")])
    body = as_json(sealed)
    for path in ("/codec/decode", "/codec/encode"):
        missing = await codec_api.post(path, json=body)
        assert missing.status_code == 401 and missing.headers["WWW-Authenticate"] == "Bearer"
        wrong = await codec_api.post(path, json=body, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 403
        basic = await codec_api.post(path, json=body, headers={"Authorization": f"Basic {TOKEN}"})
        assert basic.status_code == 401
        for r in (missing, wrong, basic):
            assert "legal@customer" not in r.text


async def test_without_a_configured_token_the_endpoint_refuses_everyone(
    codec_api: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CODEC_AUTH_TOKEN")
    get_settings.cache_clear()
    for headers in ({}, AUTH, {"Authorization": "Bearer "}):
        r = await codec_api.post("/codec/decode", json={"payloads": []}, headers=headers)
        assert r.status_code == 403
        assert "not configured" in r.json()["detail"] and "CODEC_AUTH_TOKEN" in r.json()["detail"]


async def test_the_web_ui_preflight_is_allowed_with_the_namespace_header(
    codec_api: httpx.AsyncClient,
) -> None:
    r = await codec_api.options(
        "/codec/decode",
        headers={
            "Origin": UI,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type,x-namespace",
        },
    )
    assert r.status_code in (200, 204)
    assert r.headers["Access-Control-Allow-Origin"] == UI
    assert "POST" in r.headers["Access-Control-Allow-Methods"]
    allowed = r.headers["Access-Control-Allow-Headers"].lower()
    assert {"x-namespace", "authorization", "content-type"} <= {
        h.strip() for h in allowed.split(",")
    }
    assert r.headers["Access-Control-Allow-Credentials"] == "true"

    # The answer itself carries the origin too, so the browser hands it to the UI.
    post = await codec_api.post(
        "/codec/decode", json={"payloads": []}, headers={**AUTH, "Origin": UI}
    )
    assert post.headers["Access-Control-Allow-Origin"] == UI
    refused = await codec_api.post("/codec/decode", json={"payloads": []}, headers={"Origin": UI})
    assert refused.status_code == 401 and refused.headers["Access-Control-Allow-Origin"] == UI


async def test_other_origins_get_no_cors_permission(codec_api: httpx.AsyncClient) -> None:
    evil = "https://evil.example.com"
    r = await codec_api.options(
        "/codec/decode",
        headers={"Origin": evil, "Access-Control-Request-Method": "POST"},
    )
    assert r.status_code == 403 and "Access-Control-Allow-Origin" not in r.headers
    post = await codec_api.post(
        "/codec/decode", json={"payloads": []}, headers={**AUTH, "Origin": evil}
    )
    assert "Access-Control-Allow-Origin" not in post.headers


async def test_a_payload_under_an_unknown_key_is_a_400_naming_the_key_id(
    codec_api: httpx.AsyncClient,
) -> None:
    [sealed] = await EncryptionCodec([("retired-3", bytes(32))]).encode([json_payload(1)])
    r = await codec_api.post("/codec/decode", json=as_json(sealed), headers=AUTH)
    assert r.status_code == 400 and "retired-3" in r.json()["detail"]


async def test_a_body_that_is_not_payloads_is_a_400(codec_api: httpx.AsyncClient) -> None:
    for content in (b"not json", b'{"payloads": "x"}', b"[1]"):
        r = await codec_api.post("/codec/decode", content=content, headers=AUTH)
        assert r.status_code == 400, content
