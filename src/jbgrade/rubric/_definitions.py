"""Plain-language definitions of the criteria, metrics and terms of each JBG version.

Kept as versioned data beside the tables (``data/definitions.json``) and out of
the tables themselves: they explain a grade and never change one, so the tables'
hash (which policy bundles pin) stays what it was. The calculator, the reports
and the CLI show these texts; none of them carries its own copy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any

from jbgrade._errors import InputError

__all__ = ["Definitions", "definitions_for"]


@dataclass(frozen=True, slots=True)
class Definitions:
    """The definitions of one version: criterion, metric and term -> text."""

    version: str
    criteria: MappingProxyType[str, str]
    metrics: MappingProxyType[str, str]
    terms: MappingProxyType[str, str]

    def criterion_name(self, key: str) -> str:
        """``"Bypassed protections"`` from the criterion's definition."""
        return self.criteria[key].split(":", 1)[0]


@cache
def _data() -> dict[str, Any]:
    text = resources.files("jbgrade.rubric").joinpath("data/definitions.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@cache
def definitions_for(version: str) -> Definitions:
    """The definitions shipped for ``version`` (``"1.0"``, ``"1.1"``)."""
    v = _data()["versions"].get(version)
    if v is None:
        raise InputError(f"no definitions for JBG {version}", field="version")
    return Definitions(
        version=version,
        criteria=MappingProxyType(dict(v["criteria"])),
        metrics=MappingProxyType(dict(v["metrics"])),
        terms=MappingProxyType(dict(v["terms"])),
    )
