"""Importers and exporters by format name, on the plug-in kernel.

Both are :class:`~jbgrade._plugins.PluginRegistry` kinds (``importer``,
``exporter``) like targets, attacks and judges: built-ins register here, third
parties through the ``jbgrade.importers`` / ``jbgrade.exporters`` entry-point
groups, and a duplicate name is an error. The factory of an importer is the
import function ``(path, sink_factory) -> ImportResult``; the factory of an
exporter is an :class:`Exporter` (or any callable ``report -> dict``, taken as a
JSON export).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field

from jbgrade._base import FrozenRecord
from jbgrade._errors import InputError
from jbgrade._plugins import PluginRegistry
from jbgrade.interop._advisories import to_atlas, to_avid, to_jef, to_sarif
from jbgrade.interop._benchmarks import import_harmbench, import_jailbreakbench
from jbgrade.interop._csaf_publisher import CsafPublisher
from jbgrade.interop._export import to_csaf, to_csaf21, to_stix
from jbgrade.interop._garak import import_garak
from jbgrade.interop._inspect import import_inspect
from jbgrade.interop._promptfoo import import_promptfoo
from jbgrade.interop._pyrit import import_pyrit
from jbgrade.interop._sink import ImportResult, ImportSink, Source, load_import_map

__all__ = [
    "EXPORTS",
    "IMPORTERS",
    "ExportOptions",
    "Exporter",
    "ImportOptions",
    "Importer",
    "ImporterFn",
    "export_report",
    "exporter",
    "import_evidence",
    "render_export",
]

ImporterFn = Callable[[Path, Any], ImportResult]


class ImportOptions(FrozenRecord):
    """Options of an importer. The built-ins take none (what a result file means is
    set by the import map, common to every format); the model exists so a
    third-party importer's options are validated like every plug-in's."""


@dataclass(frozen=True, slots=True)
class Importer:
    """One import format: the function ``(path, sink_factory) -> ImportResult``."""

    name: str
    read: ImporterFn
    description: str = ""

    Options: ClassVar[type[ImportOptions]] = ImportOptions

    def from_options(self, opts: ImportOptions) -> ImporterFn:
        """The import function for ``opts`` (the plug-in factory, design 0181)."""
        return self.read


def _as_importer(name: str, obj: Any) -> list[tuple[str, Any]]:
    # An entry point may name an Importer, or a plain import function.
    return [(name, obj if isinstance(obj, Importer) else Importer(name, obj))]


#: Importers by format name (kind ``importer``, entry-point group ``jbgrade.importers``).
IMPORTERS: PluginRegistry[Callable[[ImportOptions], ImporterFn]] = PluginRegistry(
    "importer", "jbgrade.importers", expand=_as_importer, options=ImportOptions
)
for _name, _fn in (
    ("garak", import_garak),
    ("inspect", import_inspect),
    ("pyrit", import_pyrit),
    ("promptfoo", import_promptfoo),
    ("jailbreakbench", import_jailbreakbench),
    ("harmbench", import_harmbench),
):
    IMPORTERS.add(_name, Importer(_name, _fn).from_options)


class ExportOptions(FrozenRecord):
    """Options of an exporter."""

    publisher: CsafPublisher | None = Field(
        default=None,
        description="The advisory's publisher (CSAF formats only; default: from the "
        "environment, see csaf_publisher()).",
    )


@dataclass(frozen=True, slots=True)
class Exporter:
    """One export format: the function, how the document is written, and its schema."""

    name: str
    build: Callable[[dict[str, Any]], dict[str, Any]]
    media: Literal["json", "yaml"] = "json"
    schema: str | None = None  # `jbgrade schema show NAME` of the format's schema
    description: str = ""

    #: Formats with a publisher (CSAF): the build taking a :class:`CsafPublisher`.
    with_publisher: Callable[[dict[str, Any], CsafPublisher], dict[str, Any]] | None = None

    Options: ClassVar[type[ExportOptions]] = ExportOptions

    def from_options(self, opts: ExportOptions) -> Callable[[dict[str, Any]], dict[str, Any]]:
        """The export function for ``opts`` (the plug-in factory, design 0181); a
        publisher given to a format without one is an error here, not at export."""
        if opts.publisher is not None and self.with_publisher is None:
            raise self._no_publisher()
        return partial(self.__call__, publisher=opts.publisher)

    def _no_publisher(self) -> InputError:
        return InputError(
            f"the {self.name} export names no publisher (publisher settings are for csaf)",
            field="--csaf-publisher-namespace",
        )

    def __call__(
        self, report: dict[str, Any], publisher: CsafPublisher | None = None
    ) -> dict[str, Any]:
        if publisher is None:
            return self.build(report)
        if self.with_publisher is None:
            raise self._no_publisher()
        return self.with_publisher(report, publisher)

    def dumps(self, doc: dict[str, Any]) -> str:
        """The document as the file is written."""
        if self.media == "yaml":
            import yaml

            text: str = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)
            return text
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def _as_exporter(name: str, obj: Any) -> list[tuple[str, Any]]:
    # An entry point may name an Exporter, or a plain callable ``report -> dict``
    # (then a JSON export).
    return [(name, obj if isinstance(obj, Exporter) else Exporter(name, obj))]


#: Exporters by format name (kind ``exporter``, entry-point group ``jbgrade.exporters``).
EXPORTS: PluginRegistry[Callable[[ExportOptions], Callable[[dict[str, Any]], dict[str, Any]]]] = (
    PluginRegistry("exporter", "jbgrade.exporters", expand=_as_exporter, options=ExportOptions)
)
for _exp in (
    Exporter(
        "csaf",
        to_csaf,
        schema="csaf-2.0",
        description="CSAF 2.0 csaf_base advisory",
        with_publisher=to_csaf,
    ),
    Exporter(
        "csaf-2.1",
        to_csaf21,
        schema="csaf-2.1",
        with_publisher=to_csaf21,
        description="CSAF 2.1 (CSD04, as the csaf package validates it) csaf_base advisory",
    ),
    Exporter(
        "stix",
        to_stix,
        schema="stix-jbg-extension",
        description="STIX 2.1 bundle with the JBG property extension and ATLAS techniques",
    ),
    Exporter("sarif", to_sarif, schema="sarif", description="SARIF 2.1.0 log for code scanning"),
    Exporter("avid", to_avid, schema="avid-report", description="AVID report (LLM Evaluation)"),
    Exporter(
        "atlas",
        to_atlas,
        media="yaml",
        schema="atlas-case-study",
        description="MITRE ATLAS case-study YAML (the website's upload shape)",
    ),
    Exporter("jef", to_jef, schema="jef-export", description="0DIN JEF score and its inputs"),
):
    EXPORTS.add(_exp.name, _exp.from_options)


def exporter(fmt: str) -> Exporter:
    """The exporter of ``fmt``."""
    if fmt not in EXPORTS:
        raise InputError(
            f"unknown export format {fmt!r}; known: {', '.join(EXPORTS.names())}",
            field="FORMAT",
        )
    factory = EXPORTS.get(fmt)
    owner = getattr(factory, "__self__", None)
    if isinstance(owner, Exporter):
        return owner
    # registered in Python as a plain ``report -> dict`` callable: a JSON export
    return Exporter(fmt, factory)  # type: ignore[arg-type]


def export_report(
    fmt: str, report: dict[str, Any], *, publisher: CsafPublisher | None = None
) -> dict[str, Any]:
    """Export a report.json (as a dict) to ``fmt``; ``publisher`` (CSAF only) overrides
    the one :func:`~jbgrade.interop.csaf_publisher` reads from the environment."""
    return exporter(fmt)(report, publisher)


def render_export(
    fmt: str, report: dict[str, Any], *, publisher: CsafPublisher | None = None
) -> str:
    """Export and serialise (JSON, or YAML for ``atlas``)."""
    exp = exporter(fmt)
    return exp.dumps(exp(report, publisher))


def import_evidence(fmt: str, path: Path, out: Path, mapping: Path | None = None) -> ImportResult:
    """Import a red-team tool's result file into the campaign directory ``out``."""
    if fmt not in IMPORTERS:
        raise InputError(
            f"unknown format {fmt!r}; known: {', '.join(IMPORTERS.names())}", field="FORMAT"
        )
    if not path.exists():
        raise InputError("no such file", path=str(path))
    imap, map_dir = load_import_map(mapping)
    domains: dict[str, tuple[str, str]] = {}
    if imap.behaviours:
        from jbgrade.behaviours import load_behaviours

        bpath = Path(imap.behaviours)
        if map_dir is not None and not bpath.is_absolute():
            bpath = map_dir / bpath
        domains = {b.id: (b.domain, b.category) for b in load_behaviours(bpath)}

    def factory(source: Source) -> ImportSink:
        return ImportSink(out, source, imap, map_dir=map_dir, behaviour_domains=domains)

    read: ImporterFn = IMPORTERS.create(fmt)
    return read(path, factory)
