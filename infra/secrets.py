"""Secrets at rest: Moka OAuth tokens and the Jurnal client secret, sealed with AES-256-GCM.

The key comes from `SAMBUNG_SECRET_KEY` (any string of 16 characters or more), stretched with
HKDF-SHA256 into a 256-bit AES key. Every sealed value records the id of the key that sealed it
(`Sealed.key_id`: 8 hex digits derived from the key, not the key), and the key id is bound to the
ciphertext as associated data, so a value cannot be passed off as sealed by another key.

Only sealed values reach aggregates and events; plaintext exists in memory only while a client
uses it, and the types that carry it (`JurnalCredentials`, `MokaTokens` in `infra.eventlog`)
hide it from `repr`.

A laptop install with no `SAMBUNG_SECRET_KEY` generates a random key into
`$SAMBUNG_DATA_DIR/secret.key` (mode 0600) and logs a warning that it did so. PostgreSQL
installs run on several machines, which must share one key, so there the variable is required.

Rotating the key
----------------
1. On every process, set `SAMBUNG_SECRET_KEY` to the new key and add the old one to
   `SAMBUNG_OLD_SECRET_KEYS` (comma-separated; keys must not contain commas). Old keys only
   decrypt; new secrets are sealed with the new key.
2. Run `sambung secrets rotate`. It re-seals every stored secret with the new key (an event per
   company or connection) and prints how many it re-sealed. Running it again re-seals nothing.
3. Remove the old key from `SAMBUNG_OLD_SECRET_KEYS`. Earlier events still hold ciphertext under
   the retired key, but nothing decrypts history: the current state is sealed with the new key.
   Destroying the old key therefore also shreds those copies.

A secret sealed with a key that is neither current nor listed as old cannot be read;
`SecretKeyMissing` says which key id it needs.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import secrets as random_source
from collections.abc import Sequence
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from domain.sealed import Sealed
from infra.config import Config, ConfigError

log = logging.getLogger(__name__)

MIN_KEY_LENGTH = 16
_NONCE_BYTES = 12
_HKDF_SALT = b"sambung secrets at rest"
_HKDF_INFO = b"aes-256-gcm v1"
_DERIVED_SALT = b"sambung derived keys"


class SecretKeyMissing(RuntimeError):
    """A sealed value needs a key this process does not have, or was tampered with."""


class SecretBox:
    """Seals with the current key; unseals with the current key or any old one."""

    def __init__(self, key: str, old_keys: Sequence[str] = ()) -> None:
        self.key_id, self._current = _derive(key)
        self._ciphers = {self.key_id: self._current}
        for old in old_keys:
            key_id, cipher = _derive(old)
            self._ciphers.setdefault(key_id, cipher)

    def __repr__(self) -> str:
        return f"SecretBox(key_id={self.key_id!r}, keys={len(self._ciphers)})"

    def seal(self, plaintext: str) -> Sealed:
        nonce = random_source.token_bytes(_NONCE_BYTES)
        ciphertext = self._current.encrypt(nonce, plaintext.encode(), self.key_id.encode())
        return Sealed(self.key_id, base64.urlsafe_b64encode(nonce + ciphertext).decode())

    def unseal(self, sealed: Sealed) -> str:
        cipher = self._ciphers.get(sealed.key_id)
        if cipher is None:
            raise SecretKeyMissing(
                f"a secret is sealed with key {sealed.key_id}, which is neither "
                "SAMBUNG_SECRET_KEY nor listed in SAMBUNG_OLD_SECRET_KEYS"
            )
        raw = base64.urlsafe_b64decode(sealed.ciphertext)
        try:
            plaintext = cipher.decrypt(
                raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], sealed.key_id.encode()
            )
        except InvalidTag:
            raise SecretKeyMissing(
                f"a secret sealed with key {sealed.key_id} does not decrypt; it was altered"
            ) from None
        return plaintext.decode()

    def is_current(self, sealed: Sealed) -> bool:
        return sealed.key_id == self.key_id


def secret_box(config: Config) -> SecretBox:
    """The process's box: from SAMBUNG_SECRET_KEY, or the laptop install's generated key file."""
    key = config.secret_key or _laptop_key(config)
    for name, value in (
        ("SAMBUNG_SECRET_KEY", key),
        *(("SAMBUNG_OLD_SECRET_KEYS", k) for k in config.old_secret_keys),
    ):
        if len(value) < MIN_KEY_LENGTH:
            raise ConfigError(f"{name} must be at least {MIN_KEY_LENGTH} characters long")
    return SecretBox(key, config.old_secret_keys)


def derived_key(config: Config, purpose: str, key: str | None = None) -> bytes:
    """A key for another purpose (such as signing the admin's session cookies), derived from
    `key` (default: the install's secret key) with HKDF, so that neither key reveals the other."""
    material = key or config.secret_key or _laptop_key(config)
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=_DERIVED_SALT, info=purpose.encode()
    ).derive(material.encode())


def _laptop_key(config: Config) -> str:
    if config.uses_postgres:
        raise ConfigError(
            "SAMBUNG_SECRET_KEY must be set with PostgreSQL: every machine needs the same key"
        )
    path = config.secret_key_path
    if not path.exists():
        _write_new_key(path)
    return path.read_text().strip()


def _write_new_key(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return  # another process of this install generated it first
    with os.fdopen(descriptor, "w") as handle:
        handle.write(random_source.token_urlsafe(32) + "\n")
    log.warning(
        "SAMBUNG_SECRET_KEY is not set: generated a key into %s (mode 0600). Back it up with the "
        "data dir, or set SAMBUNG_SECRET_KEY; without it the stored secrets cannot be read.",
        path,
    )


def _derive(key: str) -> tuple[str, AESGCM]:
    material = HKDF(algorithm=hashes.SHA256(), length=32, salt=_HKDF_SALT, info=_HKDF_INFO).derive(
        key.encode()
    )
    key_id = hashlib.sha256(b"sambung key id" + material).hexdigest()[:8]
    return key_id, AESGCM(material)
