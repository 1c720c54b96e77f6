"""Encryption of everything Temporal stores about a case: workflow inputs, update arguments and results,
activity payloads, query results. AES-256-GCM, with the key id in each payload's metadata so that keys
can rotate: new payloads use the current key, and every key still listed decrypts what it wrote.

Workflow ids and search attributes are not payloads and are not encrypted: they carry only the case
reference and non-identifying codes.

Keys come from ``SLL_PAYLOAD_KEYS`` (JSON) or, on the embedded default, from a key file that is created
on first use in the data folder.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
from collections.abc import Sequence
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import BaseModel, Field, field_validator
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverter, PayloadCodec

from safeguarding.platform.local_secrets import local_secret

ENCODING = b"binary/encrypted"
# What an unencrypted payload becomes: an encoding no converter reads.
REFUSED = Payload(metadata={"encoding": b"binary/refused-unencrypted"}, data=b"")
KEY_ID = "encryption-key-id"


class PayloadKeys(BaseModel):
    """The keys: ``current`` encrypts; every key in ``keys`` decrypts (base64 of 32 random bytes)."""

    current: str = Field(pattern=r"^[A-Za-z0-9._-]{1,40}$")
    keys: dict[str, str]

    @field_validator("keys")
    @classmethod
    def _keys_are_256_bits(cls, value: dict[str, str]) -> dict[str, str]:
        for key_id, encoded in value.items():
            if len(base64.b64decode(encoded)) != 32:
                raise ValueError(f"key {key_id!r} is not 32 bytes (AES-256) in base64")
        return value

    def model_post_init(self, _context: object) -> None:
        if self.current not in self.keys:
            raise ValueError(f"the current key {self.current!r} is not among the keys")

    @classmethod
    def new(cls, key_id: str = "k1") -> PayloadKeys:
        return cls(
            current=key_id, keys={key_id: base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()}
        )

    def rotated(self, key_id: str) -> PayloadKeys:
        """A new current key, keeping the old ones to decrypt what they wrote."""
        fresh = base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()
        return PayloadKeys(current=key_id, keys={**self.keys, key_id: fresh})


class EncryptionCodec(PayloadCodec):
    def __init__(self, keys: PayloadKeys, accept_unencrypted: bool = False) -> None:
        self._accept_unencrypted = accept_unencrypted
        self._current = keys.current
        self._ciphers = {key_id: AESGCM(base64.b64decode(key)) for key_id, key in keys.keys.items()}

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        cipher = self._ciphers[self._current]
        encoded = []
        for payload in payloads:
            nonce = os.urandom(12)
            encoded.append(
                Payload(
                    metadata={"encoding": ENCODING, KEY_ID: self._current.encode()},
                    data=nonce + cipher.encrypt(nonce, payload.SerializeToString(), None),
                )
            )
        return encoded

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        decoded = []
        for payload in payloads:
            if payload.metadata.get("encoding") != ENCODING:
                # Only the service encrypts with its keys: a plain payload (an update with a forged actor
                # sent by anyone who can reach Temporal) is refused, as a payload nothing can read. Not
                # raised here, where it would fail the case's whole task and leave it stuck: an update
                # carrying it is rejected, a signal dropped. Histories recorded plain for the replay tests
                # are read with ``accept_unencrypted``.
                decoded.append(payload if self._accept_unencrypted else REFUSED)
                continue
            key_id = payload.metadata[KEY_ID].decode()
            cipher = self._ciphers.get(key_id)
            if cipher is None:
                raise ValueError(f"payload encrypted with key {key_id!r}, which is not configured")
            decoded.append(Payload.FromString(cipher.decrypt(payload.data[:12], payload.data[12:], None)))
        return decoded

    def seal(self, text: str) -> str:
        """A secret kept outside Temporal (an agency's webhook secret in the database), encrypted with
        the current key and readable while its key is configured."""
        nonce = os.urandom(12)
        sealed = nonce + self._ciphers[self._current].encrypt(nonce, text.encode(), b"sealed")
        return f"{self._current}:{base64.b64encode(sealed).decode()}"

    def unseal(self, sealed: str) -> str:
        key_id, _, data = sealed.partition(":")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise ValueError(f"secret sealed with key {key_id!r}, which is not configured")
        raw = base64.b64decode(data)
        return cipher.decrypt(raw[:12], raw[12:], b"sealed").decode()


def seal(codec: PayloadCodec | None, text: str) -> str:
    return codec.seal(text) if isinstance(codec, EncryptionCodec) else f"plain:{text}"


def unseal(codec: PayloadCodec | None, sealed: str) -> str:
    if sealed.startswith("plain:"):
        return sealed.removeprefix("plain:")
    if not isinstance(codec, EncryptionCodec):
        raise ValueError("a sealed secret needs the payload keys to read")
    return codec.unseal(sealed)


def data_converter(keys: PayloadKeys | None, *, accept_unencrypted: bool = False) -> DataConverter:
    """pydantic models in and out, encrypted when keys are given: every client must use this. What is
    not encrypted with the keys is refused, unless ``accept_unencrypted`` (reading recorded histories)."""
    if keys is None:
        return pydantic_data_converter
    # Failure messages and stack traces are encrypted too (a refusal's reason names the case's state).
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=EncryptionCodec(keys, accept_unencrypted),
        failure_converter_class=EncryptedFailures,
    )


class EncryptedFailures(DefaultFailureConverter):
    def __init__(self) -> None:
        super().__init__(encode_common_attributes=True)


def load_keys(environment_value: str | None, key_file: Path | None, *, create: bool) -> PayloadKeys | None:
    """The keys from the environment, else from the key file (created on first use if allowed)."""
    if environment_value:
        return PayloadKeys.model_validate(json.loads(environment_value))
    if key_file is None:
        return None
    made = local_secret(
        key_file,
        lambda: PayloadKeys.new().model_dump_json(indent=2),
        create=create,
        missing="payload keys not found",
    )
    return PayloadKeys.model_validate_json(made)
