"""The payload codec: AES-256-GCM with key ids, rotation, and the start-up check."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure

from runtime.codec import (
    COMPRESSION_METADATA,
    DEV_KEY_PREFIX,
    ENCRYPTED_ENCODING,
    KEY_ID_METADATA,
    NONCE_BYTES,
    EncryptionCodec,
    PayloadDecryptionError,
    PayloadKeyError,
    check_payload_keys,
    ensure_dev_key_file,
    format_key,
    load_keys,
    new_key,
    parse_keys,
)
from runtime.settings import Settings
from runtime.temporal import data_converter
from workers.seed import reference_term_sheet

SECRET = b'{"party": "Example Enterprise Inc.", "email": "legal@customer.example.com"}'


def plain(data: bytes = SECRET) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=data)


def settings(tmp_path: Path, **values: object) -> Settings:
    """Settings isolated from the environment and from any real key file."""
    values.setdefault("payload_key_file", str(tmp_path / "payload.key"))
    values.setdefault("payload_encryption_keys", None)
    values.setdefault("environment", "development")
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


async def test_a_payload_round_trips_and_nothing_of_it_is_readable_encrypted() -> None:
    codec = EncryptionCodec([new_key("k-")])
    original = plain()
    [sealed] = await codec.encode([original])
    assert sealed.metadata["encoding"] == ENCRYPTED_ENCODING
    assert sealed.metadata[KEY_ID_METADATA] == codec.encrypting_key_id.encode()
    assert b"Example Enterprise" not in sealed.SerializeToString()
    assert b"json/plain" not in sealed.SerializeToString()  # metadata is sealed too
    assert await codec.decode([sealed]) == [original]


async def test_every_payload_is_encrypted_under_a_fresh_nonce() -> None:
    codec = EncryptionCodec([new_key("k-")])
    sealed = await codec.encode([plain()] * 50)
    nonces = {p.data[:NONCE_BYTES] for p in sealed}
    assert len(nonces) == 50
    assert len({p.data for p in sealed}) == 50


async def test_after_rotation_the_new_key_encrypts_and_old_payloads_still_decrypt() -> None:
    old, new = new_key("2025-"), new_key("2026-")
    [written_before] = await EncryptionCodec([old]).encode([plain(b"before")])

    rotated = EncryptionCodec([new, old])
    [written_after] = await rotated.encode([plain(b"after")])

    assert written_after.metadata[KEY_ID_METADATA] == new[0].encode()
    assert await rotated.decode([written_before, written_after]) == [
        plain(b"before"),
        plain(b"after"),
    ]
    # Once the old key is removed, its payloads name it in the error.
    with pytest.raises(PayloadDecryptionError, match=old[0]):
        await EncryptionCodec([new]).decode([written_before])


async def test_a_payload_under_an_unknown_key_id_fails_naming_the_id() -> None:
    [sealed] = await EncryptionCodec([("retired-7", bytes(32))]).encode([plain()])
    with pytest.raises(PayloadDecryptionError, match="unknown key id 'retired-7'"):
        await EncryptionCodec([new_key("k-")]).decode([sealed])


async def test_a_tampered_ciphertext_fails_authentication() -> None:
    codec = EncryptionCodec([new_key("k-")])
    [sealed] = await codec.encode([plain()])
    flipped = bytearray(sealed.data)
    flipped[-20] ^= 0x01
    tampered = Payload(metadata=dict(sealed.metadata), data=bytes(flipped))
    with pytest.raises(PayloadDecryptionError, match="failed authentication"):
        await codec.decode([tampered])
    truncated = Payload(metadata=dict(sealed.metadata), data=sealed.data[:5])
    with pytest.raises(PayloadDecryptionError):
        await codec.decode([truncated])


async def test_relabelling_a_payload_with_another_configured_key_id_fails() -> None:
    a, b = ("a", bytes(range(32))), ("b", bytes(range(32)))  # same bytes, other id
    codec = EncryptionCodec([a, b])
    [sealed] = await codec.encode([plain()])
    relabelled = Payload(
        metadata={"encoding": ENCRYPTED_ENCODING, KEY_ID_METADATA: b"b"}, data=sealed.data
    )
    with pytest.raises(PayloadDecryptionError, match="'b' failed authentication"):
        await codec.decode([relabelled])


async def test_unencrypted_payloads_of_old_histories_pass_through_decode() -> None:
    codec = EncryptionCodec([new_key("k-")])
    old = [plain(), Payload(metadata={"encoding": b"binary/null"})]
    assert await codec.decode(old) == old


def test_keys_parse_from_the_environment_format_in_order() -> None:
    k1, k2 = new_key("a-"), new_key("b-")
    keys = parse_keys(f" {format_key(*k1)} , {format_key(*k2)},")
    assert keys == [k1, k2]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nocolon", "entry 1 is not of the form id:base64key"),
        (":" + base64.b64encode(bytes(32)).decode(), "entry 1 is not of the form"),
        ("k:not base64!", "key 'k' is not valid base64"),
        ("k:" + base64.b64encode(bytes(16)).decode(), "key 'k' is 16 bytes; AES-256 needs 32"),
        (
            f"k:{base64.b64encode(bytes(32)).decode()},k:{base64.b64encode(bytes(32)).decode()}",
            "key id 'k' appears twice",
        ),
    ],
)
def test_malformed_keys_are_refused_without_echoing_key_material(text: str, message: str) -> None:
    with pytest.raises(PayloadKeyError, match=message) as err:
        parse_keys(text)
    assert base64.b64encode(bytes(32)).decode() not in str(err.value)


def test_the_key_file_holds_one_key_a_line_with_comments(tmp_path: Path) -> None:
    k1, k2 = new_key("prod-"), new_key("prod-")
    path = tmp_path / "keys"
    path.write_text(f"# current first\n{format_key(*k1)}\n\n# retired\n{format_key(*k2)}\n")
    assert load_keys(settings(tmp_path, payload_key_file=str(path))) == [k1, k2]


def test_the_environment_takes_precedence_over_the_key_file(tmp_path: Path) -> None:
    from_env, from_file = new_key("env-"), new_key("file-")
    (tmp_path / "payload.key").write_text(format_key(*from_file) + "\n")
    s = settings(tmp_path, payload_encryption_keys=format_key(*from_env))
    assert load_keys(s) == [from_env]


def test_the_dev_key_file_is_generated_once_with_mode_0600(tmp_path: Path) -> None:
    s = settings(tmp_path, payload_key_file=str(tmp_path / "state" / "payload.key"))
    path = ensure_dev_key_file(s)
    assert path == tmp_path / "state" / "payload.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    [(key_id, key)] = load_keys(s)
    assert key_id.startswith(DEV_KEY_PREFIX) and len(key) == 32
    content = path.read_text()
    assert ensure_dev_key_file(s) is None  # a second `make dev` keeps the key
    assert path.read_text() == content
    assert [p.name for p in path.parent.iterdir()] == ["payload.key"]  # no temp file left


def test_no_dev_key_file_is_generated_when_keys_are_configured_or_in_production(
    tmp_path: Path,
) -> None:
    assert ensure_dev_key_file(settings(tmp_path, payload_encryption_keys="x:y")) is None
    assert ensure_dev_key_file(settings(tmp_path, environment="production")) is None
    assert not (tmp_path / "payload.key").exists()


def test_every_environment_refuses_to_start_without_a_key(tmp_path: Path) -> None:
    for environment in ("development", "production"):
        with pytest.raises(PayloadKeyError, match="no payload encryption key"):
            check_payload_keys(settings(tmp_path, environment=environment))
        with pytest.raises(PayloadKeyError, match="no payload encryption key"):
            data_converter(settings(tmp_path, environment=environment))


def test_production_refuses_the_generated_development_key(tmp_path: Path) -> None:
    ensure_dev_key_file(settings(tmp_path))
    [(dev_id, _)] = load_keys(settings(tmp_path))
    assert check_payload_keys(settings(tmp_path))  # fine in development
    with pytest.raises(PayloadKeyError, match=f"development payload key.*{dev_id}"):
        check_payload_keys(settings(tmp_path, environment="production"))
    # Also when the dev key is only kept for decrypting, behind a production key.
    both = f"{format_key(*new_key('prod-'))},{format_key(dev_id, bytes(32))}"
    with pytest.raises(PayloadKeyError, match=dev_id):
        check_payload_keys(
            settings(tmp_path, environment="production", payload_encryption_keys=both)
        )


def test_production_starts_with_production_keys(tmp_path: Path) -> None:
    key = new_key("prod-")
    s = settings(tmp_path, environment="production", payload_encryption_keys=format_key(*key))
    assert check_payload_keys(s) == [key]


async def test_the_data_converter_encrypts_values_and_failure_messages(tmp_path: Path) -> None:
    key = new_key("prod-")
    converter = data_converter(settings(tmp_path, payload_encryption_keys=format_key(*key)))
    terms = reference_term_sheet()
    [payload] = await converter.encode([terms])
    assert payload.metadata["encoding"] == ENCRYPTED_ENCODING
    assert b"Example Enterprise" not in payload.SerializeToString()
    assert await converter.decode([payload], [type(terms)]) == [terms]

    failure = Failure()
    await converter.encode_failure(
        RuntimeError("could not reach legal@customer.example.com"), failure
    )
    assert b"legal@customer" not in failure.SerializeToString()
    decoded = await converter.decode_failure(failure)
    assert "legal@customer.example.com" in str(decoded)


async def test_a_large_payload_is_compressed_before_it_is_sealed_and_reads_back() -> None:
    codec = EncryptionCodec([new_key("k-")])
    large = plain(b'{"explanation": "' + b"counted in business days, " * 200 + b'"}')
    [sealed] = await codec.encode([large])
    assert sealed.metadata[COMPRESSION_METADATA] == b"zlib"
    assert len(sealed.data) < len(large.data) / 5
    assert await codec.decode([sealed]) == [large]


async def test_a_small_payload_is_sealed_uncompressed() -> None:
    codec = EncryptionCodec([new_key("k-")])
    [sealed] = await codec.encode([plain(b'"ok"')])
    assert COMPRESSION_METADATA not in sealed.metadata
    assert await codec.decode([sealed]) == [plain(b'"ok"')]


async def test_removing_or_adding_the_compression_mark_fails_authentication() -> None:
    codec = EncryptionCodec([new_key("k-")])
    large = plain(b"x" * 2000)
    [sealed] = await codec.encode([large])
    unmarked = Payload()
    unmarked.CopyFrom(sealed)
    del unmarked.metadata[COMPRESSION_METADATA]
    with pytest.raises(PayloadDecryptionError, match="failed authentication"):
        await codec.decode([unmarked])
    [small] = await codec.encode([plain()])
    marked = Payload()
    marked.CopyFrom(small)
    marked.metadata[COMPRESSION_METADATA] = b"zlib"
    with pytest.raises(PayloadDecryptionError, match="failed authentication"):
        await codec.decode([marked])
