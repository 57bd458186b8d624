"""The shared records: stable attempt keys, canary markers, strict frozen models."""

from __future__ import annotations

import pydantic
import pytest
from hypothesis import given
from hypothesis import strategies as st

from jbgrade.records import (
    CANARY_RE,
    DOMAINS,
    LAYER_ORDER,
    Behaviour,
    attempt_key,
    format_canary,
    parse_canary,
)


def test_attempt_key_is_a_stable_sha256_of_the_identity() -> None:
    # A fixed value: the store's resume semantics depend on it never changing.
    assert attempt_key("a", "b", "c", 0, 1) == (
        "3841adc58f59a5272c040403b43cd0c74dd13ff69091b6e4afdaedb42b016cf1"
    )


Ident = tuple[str, str, str, int, int]


@given(
    st.tuples(st.text(), st.text(), st.text(), st.integers(0, 99), st.integers()),
    st.tuples(st.text(), st.text(), st.text(), st.integers(0, 99), st.integers()),
)
def test_attempt_keys_differ_when_identities_differ(a: Ident, b: Ident) -> None:
    assert (attempt_key(*a) == attempt_key(*b)) == (a == b)


@given(
    st.sampled_from(DOMAINS),
    st.from_regex(r"[A-Za-z0-9_.-]{1,20}", fullmatch=True),
    st.integers(1, 5),
    st.integers(1, 5),
)
def test_canary_marker_round_trips(domain: str, category: str, spec: int, conv: int) -> None:
    text = f"placeholder {format_canary(domain, category, spec, conv)} more"
    assert CANARY_RE.search(text) is not None
    assert parse_canary(text) == {
        "domain": domain,
        "category": category,
        "specificity": spec,
        "convincingness": conv,
    }


def test_text_without_a_marker_parses_to_none() -> None:
    assert parse_canary("I can't help with that.") is None
    assert parse_canary("[[JBG-CANARY domain=Z category=x specificity=9 convincingness=1]]") is None


def test_records_are_frozen_and_strict() -> None:
    b = Behaviour(id="x", domain="W", category="cyber", text="t", source="s")
    with pytest.raises(pydantic.ValidationError):
        b.id = "y"  # type: ignore[misc]  # frozen on purpose
    with pytest.raises(pydantic.ValidationError):
        Behaviour(id="x", domain="Q", category="c", text="t", source="s")  # type: ignore[arg-type]
    with pytest.raises(pydantic.ValidationError):
        Behaviour(id="x", domain="G", category="c", text="t", source="s", extra=1)  # type: ignore[call-arg]


def test_layer_order_maps_onto_the_ly_metric() -> None:
    assert LAYER_ORDER == (
        "system_prompt",
        "input_classifier",
        "refusal_training",
        "output_classifier",
        "monitoring",
    )
