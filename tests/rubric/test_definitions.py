"""Definitions of criteria, metrics and terms (data/definitions.json)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from jbgrade import InputError
from jbgrade.rubric import CRITERIA, VERSIONS, definitions_for, tables_for

SPEC_10 = Path(__file__).resolve().parents[2] / "docs" / "spec" / "jbg-1.0.md"


@pytest.mark.parametrize("version", VERSIONS)
def test_every_metric_criterion_and_term_is_defined(version: str) -> None:
    d = definitions_for(version)
    assert list(d.metrics) == [m.key for m in tables_for(version).metrics]
    assert set(d.criteria) == set(CRITERIA)
    assert {"X", "provisional", "systemic", "score", "vector"} <= set(d.terms)
    for text in (*d.metrics.values(), *d.criteria.values(), *d.terms.values()):
        assert 20 <= len(text) <= 450 and text[0].isupper() and text.endswith("."), text
    assert d.criterion_name("BP") == "Bypassed protections"


def test_jbg_10_definitions_are_the_spec_text_verbatim() -> None:
    spec = SPEC_10.read_text("utf-8")
    found = {
        m.group(1): " ".join(m.group(2).replace("*", "").split())  # markdown emphasis off
        for m in re.finditer(r"#### (\w\w): [^\n]*\n\nDefinition: (.*?)\n\n", spec, re.S)
    }
    got = definitions_for("1.0").metrics
    assert set(found) == set(got)
    for key, text in found.items():
        assert got[key] == text[0].upper() + text[1:], key


def test_unknown_version_is_an_input_error() -> None:
    with pytest.raises(InputError, match=r"JBG 9\.9"):
        definitions_for("9.9")
