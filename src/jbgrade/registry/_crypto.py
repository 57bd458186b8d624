"""Encryption at rest of payloads and transcripts: AES-256-GCM with a keyring.

A sealed value is one text: ``jbg1.<key id>.<base64url(nonce || ciphertext+tag)>``
with a fresh 96-bit random nonce per value. The associated data binds it to its
place: ``jbgrade:<case id>:<field>``, so a ciphertext copied to another case or
field does not decrypt. The key id is derived from the key
(``k`` + the first 12 hex digits of SHA-256 of the key bytes), so every holder of
a key agrees on its id without storing it.

Keys come from ``JBGRADE_KEY`` (base64 of 32 bytes; several keys separated by
commas, the first active, the rest kept to decrypt old values during rotation)
or from a key file (JSON ``{"active": id, "keys": {id: base64}}``, mode 0600),
named by ``JBGRADE_KEY_FILE`` or passed explicitly.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from jbgrade._errors import KeyringError

__all__ = ["Keyring", "generate_key", "key_id"]

_PREFIX = "jbg1"


def generate_key() -> str:
    """A new random 256-bit key, base64 (the form ``JBGRADE_KEY`` takes)."""
    return base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def key_id(key: bytes) -> str:
    """The id of a key: derived, so it never has to be stored next to the key."""
    return "k" + hashlib.sha256(key).hexdigest()[:12]


def _decode_key(text: str, where: str) -> bytes:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise KeyringError(f"{where}: not valid base64") from None
    if len(raw) != 32:
        raise KeyringError(f"{where}: a key must be 32 bytes (got {len(raw)})")
    return raw


@dataclass(frozen=True)
class Keyring:
    """Keys by id; ``active`` encrypts, any key decrypts what it sealed."""

    active: str
    keys: Mapping[str, bytes]

    def __post_init__(self) -> None:
        if self.active not in self.keys:
            raise KeyringError(f"active key {self.active} is not in the keyring")
        object.__setattr__(self, "keys", MappingProxyType(dict(self.keys)))

    def __repr__(self) -> str:  # never show key material
        return f"Keyring(active={self.active!r}, ids={sorted(self.keys)!r})"

    # -- construction --------------------------------------------------------------
    @classmethod
    def from_keys(cls, *keys: bytes) -> Keyring:
        """The first key is active; the others only decrypt."""
        if not keys:
            raise KeyringError("a keyring needs at least one key")
        return cls(key_id(keys[0]), {key_id(k): k for k in keys})

    @classmethod
    def generate(cls) -> Keyring:
        return cls.from_keys(secrets.token_bytes(32))

    @classmethod
    def from_env_value(cls, value: str) -> Keyring:
        """Parse ``JBGRADE_KEY``: base64 keys, comma-separated, first active."""
        parts = [p for p in value.split(",") if p.strip()]
        return cls.from_keys(
            *(_decode_key(p, f"JBGRADE_KEY part {i + 1}") for i, p in enumerate(parts))
        )

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> Keyring:
        p = Path(path)
        try:
            raw = json.loads(p.read_text("utf-8"))
            active = raw["active"]
            items = raw["keys"].items()
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError):
            raise KeyringError(f"{p}: not a jbgrade key file") from None
        keys = {}
        for kid, text in items:
            k = _decode_key(text, f"{p}: key {kid}")
            if key_id(k) != kid:
                raise KeyringError(f"{p}: key id {kid} does not match its key")
            keys[kid] = k
        return cls(active, keys)

    @classmethod
    def from_environment(
        cls,
        *,
        key_file: str | os.PathLike[str] | None = None,
        env: Mapping[str, str] | None = None,
        default: str | os.PathLike[str] | None = None,
    ) -> Keyring:
        """Explicit key file, else ``JBGRADE_KEY``, else ``JBGRADE_KEY_FILE``, else the
        ``default`` key file when it exists (the CLI passes ``default_key_file()``)."""
        e = os.environ if env is None else env
        if key_file is not None:
            return cls.from_file(key_file)
        if e.get("JBGRADE_KEY"):
            return cls.from_env_value(e["JBGRADE_KEY"])
        if e.get("JBGRADE_KEY_FILE"):
            return cls.from_file(e["JBGRADE_KEY_FILE"])
        if default is not None and Path(default).is_file():
            return cls.from_file(default)
        where = f", or create {default} (jbgrade serve does)" if default is not None else ""
        raise KeyringError(
            f"no encryption key: set JBGRADE_KEY or JBGRADE_KEY_FILE, pass --key-file{where}"
        )

    @classmethod
    def load_or_create(cls, path: str | os.PathLike[str]) -> Keyring:
        """The key file at ``path``; created with a fresh key (mode 0600) if absent."""
        p = Path(path)
        if p.exists():
            return cls.from_file(p)
        ring = cls.generate()
        ring.save(p)
        return ring

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the key file atomically with mode 0600."""
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_name(p.name + ".tmp")
        body = {
            "active": self.active,
            "keys": {kid: base64.b64encode(k).decode("ascii") for kid, k in self.keys.items()},
        }
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(body, fh, indent=2)
            fh.write("\n")
        os.replace(tmp, p)

    def with_new_active(self, key: bytes | None = None) -> Keyring:
        """A keyring with ``key`` (or a fresh one) active and the old keys kept."""
        k = key if key is not None else secrets.token_bytes(32)
        keys = dict(self.keys)
        keys[key_id(k)] = k
        return Keyring(key_id(k), keys)

    def only(self, *ids: str) -> Keyring:
        """The keyring reduced to ``ids`` (the active key always stays)."""
        keep = set(ids) | {self.active}
        return Keyring(self.active, {k: v for k, v in self.keys.items() if k in keep})

    # -- sealing -------------------------------------------------------------------
    @staticmethod
    def _aad(case_id: str, field: str) -> bytes:
        return f"jbgrade:{case_id}:{field}".encode()

    def seal(self, plaintext: str, *, case_id: str, field: str) -> str:
        """Encrypt under the active key; associated data binds case id and field."""
        nonce = secrets.token_bytes(12)
        ct = AESGCM(self.keys[self.active]).encrypt(
            nonce, plaintext.encode("utf-8"), self._aad(case_id, field)
        )
        return f"{_PREFIX}.{self.active}.{base64.urlsafe_b64encode(nonce + ct).decode('ascii')}"

    @staticmethod
    def key_id_of(sealed: str) -> str:
        parts = sealed.split(".")
        if len(parts) != 3 or parts[0] != _PREFIX:
            raise KeyringError("not a jbgrade ciphertext")
        return parts[1]

    def open(self, sealed: str, *, case_id: str, field: str) -> str:
        """Decrypt; fails (without echoing anything) on a wrong key, place or tampering."""
        kid = self.key_id_of(sealed)
        if kid not in self.keys:
            raise KeyringError(f"ciphertext of {field} needs key {kid}, which the keyring lacks")
        try:
            blob = base64.urlsafe_b64decode(sealed.split(".")[2])
            pt = AESGCM(self.keys[kid]).decrypt(blob[:12], blob[12:], self._aad(case_id, field))
        except (InvalidTag, ValueError, binascii.Error):
            raise KeyringError(
                f"ciphertext of {field} for case {case_id} failed authentication"
            ) from None
        return pt.decode("utf-8")
