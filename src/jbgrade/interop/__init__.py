"""Interoperability: evidence in from other red-team tools' result files.

``import_evidence(FORMAT, PATH, OUT)`` reads a garak report, an Inspect log,
a PyRIT memory database, promptfoo results, a JailbreakBench artifact or
HarmBench classified completions and writes an ordinary campaign directory
(manifest + attempts) that ``campaign evidence``, ``assess`` and the registry
read unchanged. What the source lacks is listed in the manifest's
``spec.import.gaps`` and surfaces as evidence notes; a mapping file supplies it.
"""

from jbgrade.interop._registry import IMPORTERS, import_evidence
from jbgrade.interop._sink import ImportMap, ImportResult, TargetMap

__all__ = ["IMPORTERS", "ImportMap", "ImportResult", "TargetMap", "import_evidence"]
