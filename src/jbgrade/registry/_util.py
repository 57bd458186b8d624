"""Small shared helpers: canonical JSON, hashes, time-ordered ids, UTC time.

Canonical JSON is the policy engine's (:func:`jbgrade.policy.canonical_json`): one
definition for every hash jbgrade stores (policy bundles, audit entries, evidence).
"""

from __future__ import annotations

import functools
import hashlib
import secrets
import time
from datetime import UTC, datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from pydantic import BaseModel

from jbgrade.policy import canonical_json

__all__ = [
    "canonical_json",
    "case_rows",
    "iso_utc",
    "new_id",
    "row_view",
    "sha256_hex",
    "utc_now",
]

_V = TypeVar("_V", bound=BaseModel)


@functools.cache
def _columns(table: Any) -> frozenset[str]:
    return frozenset(sa.inspect(table).column_attrs.keys())


def row_view(view: type[_V], row: Any, **values: Any) -> _V:
    """The record ``view`` of the ORM ``row``: every field of ``view`` that is a
    column of the row's table takes the column's value, unless ``values`` gives
    it (derived fields: joined names, decoded JSON, flags). ``format_version`` is
    the view's own (never a column's). Validated as usual."""
    cols = _columns(row.__class__) - {"format_version"}
    data = {k: getattr(row, k) for k in view.model_fields if k in cols and k not in values}
    data.update(values)
    return view.model_validate(data)


def case_rows(table: Any, case_id: str, only: str | None, *columns: Any) -> sa.Select[Any]:
    """``SELECT table, *columns`` of the rows of one case, oldest first (the one
    with id ``only`` when given); joins are added by the caller."""
    stmt = (
        sa.select(table, *columns)
        .where(table.case_id == case_id)
        .order_by(table.created_at, table.id)
    )
    if only is not None:
        stmt = stmt.where(table.id == only)
    return stmt


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
