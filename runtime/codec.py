"""Encryption of Temporal payloads (MSA §6: Customer Data is encrypted at rest).

Every payload the API and the worker hand to Temporal (workflow inputs, activity
arguments and results, queries, updates, failures' details) is serialized whole and
sealed with AES-256-GCM under a fresh 96-bit nonce. The encrypted payload carries the
id of its key in its metadata, so keys can rotate: the first configured key encrypts,
every configured key decrypts.

Keys are configured as ``id:base64key`` entries, from ``PAYLOAD_ENCRYPTION_KEYS``
(comma-separated) or else from the key file ``PAYLOAD_KEY_FILE`` (one entry a line,
``#`` comments allowed). ``make dev`` generates a development key file on first start;
its key id starts with ``dev-`` and production refuses it.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import os
import secrets
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

from runtime.settings import Settings

#: ``encoding`` metadata of an encrypted payload.
ENCRYPTED_ENCODING = b"binary/encrypted"
#: Metadata entry naming the key that encrypted a payload.
KEY_ID_METADATA = "encryption-key-id"
#: Key ids of generated development keys start with this; production refuses them.
DEV_KEY_PREFIX = "dev-"

#: Metadata entry of a payload whose sealed bytes were compressed (zlib) before sealing.
COMPRESSION_METADATA = "encryption-compression"
#: Payloads up to this size are sealed as they are: compressing them saves nothing.
COMPRESS_ABOVE = 256

KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12  # 96 bits, the size GCM is designed for


class PayloadKeyError(ValueError):
    """The payload keys are missing, malformed or not allowed here.

    Messages name key ids and files, never key material.
    """


class PayloadDecryptionError(ValueError):
    """An encrypted payload cannot be decrypted: unknown key id, or not authentic."""


def parse_keys(text: str, source: str = "PAYLOAD_ENCRYPTION_KEYS") -> list[tuple[str, bytes]]:
    """Parses ``id:base64key`` entries separated by commas or newlines, in order.

    Blank entries and lines starting with ``#`` are ignored.

    Args:
        text: The entries.
        source: Where they came from, for error messages.

    Returns:
        (key id, 32-byte key) pairs; the first one encrypts.

    Raises:
        PayloadKeyError: An entry is malformed, a key is not 32 bytes, or an id repeats.
    """
    keys: list[tuple[str, bytes]] = []
    lines = [line for line in text.splitlines() if not line.strip().startswith("#")]
    entries = [e.strip() for line in lines for e in line.split(",")]
    for n, entry in enumerate((e for e in entries if e), start=1):
        key_id, sep, encoded = entry.partition(":")
        key_id, encoded = key_id.strip(), encoded.strip()
        if not sep or not key_id or not encoded:
            raise PayloadKeyError(f"{source}: entry {n} is not of the form id:base64key")
        if any(c.isspace() for c in key_id):
            raise PayloadKeyError(f"{source}: key id {key_id!r} contains whitespace")
        try:
            key = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise PayloadKeyError(f"{source}: key {key_id!r} is not valid base64") from None
        if len(key) != KEY_BYTES:
            raise PayloadKeyError(
                f"{source}: key {key_id!r} is {len(key)} bytes; AES-256 needs {KEY_BYTES}"
            )
        if any(key_id == known for known, _ in keys):
            raise PayloadKeyError(f"{source}: key id {key_id!r} appears twice")
        keys.append((key_id, key))
    return keys


def format_key(key_id: str, key: bytes) -> str:
    """One ``id:base64key`` entry."""
    return f"{key_id}:{base64.b64encode(key).decode()}"


def new_key(prefix: str = "") -> tuple[str, bytes]:
    """A fresh random key and an id for it: ``<prefix><UTC date>-<random hex>``."""
    key_id = f"{prefix}{dt.datetime.now(dt.UTC):%Y%m%d}-{secrets.token_hex(3)}"
    return key_id, AESGCM.generate_key(bit_length=256)


def load_keys(settings: Settings) -> list[tuple[str, bytes]]:
    """The configured keys: ``PAYLOAD_ENCRYPTION_KEYS`` if set, else the key file's.

    Returns:
        The keys in order (empty when neither is configured).

    Raises:
        PayloadKeyError: The configured keys are malformed.
    """
    if settings.payload_encryption_keys and settings.payload_encryption_keys.strip():
        return parse_keys(settings.payload_encryption_keys)
    path = Path(settings.payload_key_file)
    if not path.is_file():
        return []
    return parse_keys(path.read_text(), source=str(path))


def check_payload_keys(settings: Settings) -> list[tuple[str, bytes]]:
    """The start-up check: the keys this process may use, or a refusal saying why.

    Any environment needs a key. Production also refuses generated development keys
    (id prefix ``dev-``), even for decryption only: data under them was never protected
    by a production secret.

    Returns:
        The configured keys.

    Raises:
        PayloadKeyError: No key, malformed keys, or a development key in production.
    """
    keys = load_keys(settings)
    if not keys:
        raise PayloadKeyError(
            "no payload encryption key: set PAYLOAD_ENCRYPTION_KEYS (id:base64key,...) or "
            f"put a key in {settings.payload_key_file} (`make dev` generates a development key)"
        )
    if settings.environment == "production":
        dev = [key_id for key_id, _ in keys if key_id.startswith(DEV_KEY_PREFIX)]
        if dev:
            raise PayloadKeyError(
                f"refusing to start in production with development payload key(s) "
                f"{', '.join(dev)}: configure production keys in PAYLOAD_ENCRYPTION_KEYS"
            )
    return keys


def ensure_dev_key_file(settings: Settings) -> Path | None:
    """Generates the development key file on first ``make dev``.

    Nothing happens when ``PAYLOAD_ENCRYPTION_KEYS`` is set, when the file exists, or
    in production (which must be given its keys). The file is created with mode 0600
    and appears whole or not at all, so concurrent starts never read half a key.

    Returns:
        The file's path when it was created now, else None.
    """
    if settings.environment == "production" or settings.payload_encryption_keys:
        return None
    path = Path(settings.payload_key_file)
    if path.exists():
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    key_id, key = new_key(DEV_KEY_PREFIX)
    content = (
        "# Clauseflow development payload key, generated by `make dev`. Not for production.\n"
        f"{format_key(key_id, key)}\n"
    )
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(content)
        os.chmod(tmp, 0o600)  # the umask may have narrowed it; never widened
        try:
            os.link(tmp, path)  # fails if another process created it meanwhile
        except FileExistsError:
            return None
    finally:
        tmp.unlink(missing_ok=True)
    return path


class EncryptionCodec(PayloadCodec):
    """AES-256-GCM payload codec with key ids for rotation.

    ``encode`` always encrypts, with the first key. ``decode`` decrypts payloads marked
    ``binary/encrypted`` with the key their metadata names, and passes every other
    payload through unchanged: histories written before encryption still read.
    """

    def __init__(self, keys: Iterable[tuple[str, bytes]]) -> None:
        """Args:
        keys: (key id, 32-byte key) pairs; the first encrypts, all decrypt.
        """
        pairs = list(keys)
        if not pairs:
            raise PayloadKeyError("the payload codec needs at least one key")
        for key_id, key in pairs:
            if len(key) != KEY_BYTES:
                raise PayloadKeyError(f"key {key_id!r} is {len(key)} bytes; need {KEY_BYTES}")
        self._encrypt_id = pairs[0][0]
        self._ciphers = {key_id: AESGCM(key) for key_id, key in pairs}
        if len(self._ciphers) != len(pairs):
            raise PayloadKeyError("payload key ids must be unique")

    @classmethod
    def from_settings(cls, settings: Settings) -> EncryptionCodec:
        """The codec for this process's configured keys (after the start-up check)."""
        return cls(check_payload_keys(settings))

    @property
    def encrypting_key_id(self) -> str:
        """The id of the key that encrypts."""
        return self._encrypt_id

    @property
    def key_ids(self) -> list[str]:
        """Every key id this codec decrypts."""
        return list(self._ciphers)

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Encrypts every payload with the first key."""
        return [self.encrypt(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Decrypts encrypted payloads; passes unencrypted ones through."""
        return [self.decrypt(p) for p in payloads]

    def encrypt(self, payload: Payload) -> Payload:
        """One payload sealed whole (its metadata too) under a fresh nonce.

        A payload above ``COMPRESS_ABOVE`` bytes is compressed first when that makes it
        smaller: the JSON of a case's terms, facts and deadline explanations shrinks to
        about a third, and Temporal keeps every payload of a case's history for its life.
        """
        key_id = self._encrypt_id
        nonce = os.urandom(NONCE_BYTES)
        raw = payload.SerializeToString()
        packed = zlib.compress(raw) if len(raw) > COMPRESS_ABOVE else raw
        compressed = len(packed) < len(raw)
        metadata = {"encoding": ENCRYPTED_ENCODING, KEY_ID_METADATA: key_id.encode()}
        if compressed:
            metadata[COMPRESSION_METADATA] = b"zlib"
        # The key id (and the compression) are authenticated data: relabelling a payload
        # breaks its tag.
        aad = _associated_data(key_id, compressed)
        sealed = self._ciphers[key_id].encrypt(nonce, packed if compressed else raw, aad)
        return Payload(metadata=metadata, data=nonce + sealed)

    def decrypt(self, payload: Payload) -> Payload:
        """One payload opened, or returned as it is when it is not encrypted.

        Raises:
            PayloadDecryptionError: The key id is unknown, or the payload was altered or
                sealed with a different key of the same id.
        """
        if payload.metadata.get("encoding") != ENCRYPTED_ENCODING:
            return payload
        key_id = payload.metadata.get(KEY_ID_METADATA, b"").decode("utf-8", "replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            known = ", ".join(self._ciphers)
            raise PayloadDecryptionError(
                f"payload encrypted with unknown key id {key_id!r} (configured: {known}); "
                "add that key to PAYLOAD_ENCRYPTION_KEYS to read it"
            )
        data = payload.data
        compressed = payload.metadata.get(COMPRESSION_METADATA) == b"zlib"
        aad = _associated_data(key_id, compressed)
        try:
            plain = cipher.decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], aad)
        except (InvalidTag, ValueError):  # ValueError: too short to hold a nonce
            raise PayloadDecryptionError(
                f"payload under key id {key_id!r} failed authentication: it was altered, "
                "or that id names a different key here than when it was written"
            ) from None
        # Authenticated: only a holder of the key compressed it.
        return Payload.FromString(zlib.decompress(plain) if compressed else plain)


def _associated_data(key_id: str, compressed: bool) -> bytes:
    """What a payload's tag covers besides its content: its key id, and whether it was
    compressed (payloads sealed before compression carry only the key id)."""
    return key_id.encode() + (b"\x00zlib" if compressed else b"")
