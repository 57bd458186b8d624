"""Importers by format name, and the one entry point that runs them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from jbgrade._errors import InputError
from jbgrade.interop._benchmarks import import_harmbench, import_jailbreakbench
from jbgrade.interop._garak import import_garak
from jbgrade.interop._inspect import import_inspect
from jbgrade.interop._promptfoo import import_promptfoo
from jbgrade.interop._pyrit import import_pyrit
from jbgrade.interop._sink import ImportResult, ImportSink, Source, load_import_map

__all__ = ["IMPORTERS", "import_evidence"]

#: Format name -> importer(path, sink_factory). A plain mapping, easy to move
#: into a plug-in registry.
IMPORTERS: dict[str, Callable[[Path, Any], ImportResult]] = {
    "garak": import_garak,
    "inspect": import_inspect,
    "pyrit": import_pyrit,
    "promptfoo": import_promptfoo,
    "jailbreakbench": import_jailbreakbench,
    "harmbench": import_harmbench,
}


def import_evidence(fmt: str, path: Path, out: Path, mapping: Path | None = None) -> ImportResult:
    """Import a red-team tool's result file into the campaign directory ``out``."""
    if fmt not in IMPORTERS:
        raise InputError(f"unknown format {fmt!r}; known: {', '.join(IMPORTERS)}", field="FORMAT")
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

    return IMPORTERS[fmt](path, factory)
