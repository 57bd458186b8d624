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
from pathlib import Path
from typing import Any, Literal

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
    "Exporter",
    "ImporterFn",
    "export_report",
    "exporter",
    "import_evidence",
    "render_export",
]

ImporterFn = Callable[[Path, Any], ImportResult]

#: Importers by format name (kind ``importer``, entry-point group ``jbgrade.importers``).
IMPORTERS: PluginRegistry[ImporterFn] = PluginRegistry("importer", "jbgrade.importers")
for _name, _fn in (
    ("garak", import_garak),
    ("inspect", import_inspect),
    ("pyrit", import_pyrit),
    ("promptfoo", import_promptfoo),
    ("jailbreakbench", import_jailbreakbench),
    ("harmbench", import_harmbench),
):
    IMPORTERS.add(_name, _fn)


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

    def __call__(
        self, report: dict[str, Any], publisher: CsafPublisher | None = None
    ) -> dict[str, Any]:
        if publisher is None:
            return self.build(report)
        if self.with_publisher is None:
            raise InputError(
                f"the {self.name} export names no publisher (publisher settings are for csaf)",
                field="--csaf-publisher-namespace",
            )
        return self.with_publisher(report, publisher)

    def dumps(self, doc: dict[str, Any]) -> str:
        """The document as the file is written."""
        if self.media == "yaml":
            import yaml

            text: str = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)
            return text
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


#: Exporters by format name (kind ``exporter``, entry-point group ``jbgrade.exporters``).
EXPORTS: PluginRegistry[Callable[[dict[str, Any]], dict[str, Any]]] = PluginRegistry(
    "exporter", "jbgrade.exporters"
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
    EXPORTS.add(_exp.name, _exp)


def exporter(fmt: str) -> Exporter:
    """The exporter of ``fmt`` (a plain callable from an entry point becomes a JSON one)."""
    if fmt not in EXPORTS:
        raise InputError(
            f"unknown export format {fmt!r}; known: {', '.join(EXPORTS.names())}",
            field="FORMAT",
        )
    fn = EXPORTS.get(fmt)
    return fn if isinstance(fn, Exporter) else Exporter(fmt, fn)


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

    return IMPORTERS.get(fmt)(path, factory)
