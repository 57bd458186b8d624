"""RFC 8785 canonical JSON: the examples of the RFC and ECMAScript number formatting."""

from __future__ import annotations

import hashlib
import math

import pytest

from jbgrade.records import canonical_json, canonical_sha256

NUMBERS = [
    (0.0, "0"),
    (-0.0, "0"),
    (1.0, "1"),
    (100.0, "100"),
    (0.7, "0.7"),
    (123.456, "123.456"),
    (1e20, "100000000000000000000"),
    (1e21, "1e+21"),
    (1e-6, "0.000001"),
    (1e-7, "1e-7"),
    (4.5e-5, "0.000045"),
    (5e-324, "5e-324"),
    (1.7976931348623157e308, "1.7976931348623157e+308"),
    (-333333333.3333333, "-333333333.3333333"),
    (9007199254740992, "9007199254740992"),
]


@pytest.mark.parametrize(("value", "text"), NUMBERS)
def test_numbers_follow_ecmascript(value: float, text: str) -> None:
    assert canonical_json(value) == text.encode()


def test_rfc_8785_sorting_and_strings() -> None:
    # RFC 8785 section 3.2.3: keys sort by UTF-16 code units, not code points.
    data = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew",
        "1": "One",
        "\U0001f600": "Emoji",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O",
    }
    got = canonical_json(data).decode()
    assert got == (
        '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O",'
        '"\u20ac":"Euro Sign","\U0001f600":"Emoji","\ufb33":"Hebrew"}'
    )
    assert canonical_json(["\u2028", "\x1f", '"\\']) == '["\u2028","\\u001f","\\"\\\\"]'.encode()


def test_hash_is_sha256_of_the_canonical_bytes() -> None:
    v = {"b": [1, 2.5, None, True], "a": "x"}
    assert canonical_json(v) == b'{"a":"x","b":[1,2.5,null,true]}'
    assert canonical_sha256(v) == hashlib.sha256(canonical_json(v)).hexdigest()


@pytest.mark.parametrize("bad", [math.nan, math.inf, 2**60, {1: "x"}, b"x"])
def test_values_without_a_canonical_form_are_refused(bad: object) -> None:
    with pytest.raises((ValueError, TypeError)):
        canonical_json(bad)
