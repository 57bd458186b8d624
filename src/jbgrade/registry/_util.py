"""Small shared helpers: canonical JSON, hashes, time-ordered ids, UTC time.

Canonical JSON is the policy engine's (:func:`jbgrade.policy.canonical_json`): one
definition for every hash jbgrade stores (policy bundles, audit entries, evidence).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from datetime import UTC, datetime

from jbgrade.policy import canonical_json

__all__ = [
    "canonical_json",
    "iso_utc",
    "new_id",
    "sha256_hex",
    "utc_now",
]

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def sha256_hex(data: str | bytes) -> str:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def new_id(prefix: str, *, ms: int | None = None) -> str:
    """``prefix_`` + a ULID-style id: 48-bit milliseconds + 80 random bits, Crockford base32.

    Ids sort by creation time, which keeps B-tree inserts local and gives keyset
    pagination a stable tie-breaker.
    """
    if ms is None:
        ms = time.time_ns() // 1_000_000
    n = (ms << 80) | secrets.randbits(80)
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[n & 31])
        n >>= 5
    return f"{prefix}_{''.join(reversed(chars))}"


def utc_now() -> datetime:
    """Now, timezone-aware UTC, microsecond precision (what both backends store)."""
    return datetime.now(UTC)


def iso_utc(dt: datetime | None) -> str | None:
    """Canonical text of an instant (for hashing): ``YYYY-MM-DDTHH:MM:SS.ffffffZ``."""
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
