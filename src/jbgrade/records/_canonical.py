"""RFC 8785 (JSON Canonicalization Scheme) and the one hash definition built on it.

Every hash jbgrade stores over a JSON value - the campaign spec hash in a
manifest and in a report, a report's ``content_sha256``, the data a report
signature covers - is :func:`canonical_sha256`: the lowercase hex SHA-256 of
the UTF-8 bytes of the value's RFC 8785 canonical form. Any implementation
of RFC 8785 can recompute it (keys sorted by UTF-16 code units, no
whitespace, ECMAScript number formatting, minimal string escaping).

Hashes over files as bytes (a case file, a payload file) stay SHA-256 of
the bytes as read: they identify a file, not a JSON value.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["canonical_json", "canonical_sha256"]

_MAX_SAFE = 2**53


def _number(x: float) -> str:
    """ECMAScript ``Number.prototype.toString`` for a finite double (RFC 8785 3.2.2.3)."""
    if not math.isfinite(x):
        raise ValueError(f"RFC 8785 has no form for {x!r}")
    if x == 0:
        return "0"
    sign = "-" if x < 0 else ""
    mant, _, exp = repr(abs(x)).partition("e")
    whole, _, frac = mant.partition(".")
    digits = (whole + frac).lstrip("0")
    # value = 0.digits * 10**n
    n = len(whole.lstrip("0")) if whole.strip("0") else -(len(frac) - len(frac.lstrip("0")))
    n += int(exp) if exp else 0
    digits = digits.rstrip("0") or "0"
    k = len(digits)
    if k <= n <= 21:
        out = digits + "0" * (n - k)
    elif 0 < n <= 21:
        out = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        out = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        out = digits[0] + ("." + digits[1:] if k > 1 else "") + ("e+" if e >= 0 else "e-")
        out += str(abs(e))
    return sign + out


def _write(v: Any, out: list[str]) -> None:
    if v is None:
        out.append("null")
    elif v is True:
        out.append("true")
    elif v is False:
        out.append("false")
    elif isinstance(v, int):
        if abs(v) > _MAX_SAFE:
            raise ValueError(f"integer {v} is outside the range RFC 8785 represents exactly")
        out.append(str(v))
    elif isinstance(v, float):
        out.append(_number(v))
    elif isinstance(v, str):
        out.append(json.dumps(v, ensure_ascii=False))
    elif isinstance(v, Mapping):
        keys = sorted(v, key=lambda k: str(k).encode("utf-16-be"))
        out.append("{")
        for i, k in enumerate(keys):
            if not isinstance(k, str):
                raise TypeError(f"JSON object keys must be strings, not {type(k).__name__}")
            if i:
                out.append(",")
            out.append(json.dumps(k, ensure_ascii=False))
            out.append(":")
            _write(v[k], out)
        out.append("}")
    elif isinstance(v, Sequence) and not isinstance(v, (bytes, bytearray)):
        out.append("[")
        for i, x in enumerate(v):
            if i:
                out.append(",")
            _write(x, out)
        out.append("]")
    else:
        raise TypeError(f"{type(v).__name__} is not a JSON value")


def canonical_json(value: Any) -> bytes:
    """The RFC 8785 canonical form of a JSON value (dict/list/str/int/float/bool/None)."""
    out: list[str] = []
    _write(value, out)
    return "".join(out).encode("utf-8")


def canonical_sha256(value: Any) -> str:
    """Lowercase hex SHA-256 of :func:`canonical_json` - every stored JSON hash."""
    return hashlib.sha256(canonical_json(value)).hexdigest()
