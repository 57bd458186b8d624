"""Interoperability: evidence in from other red-team tools' result files.

``import_evidence(FORMAT, PATH, OUT)`` reads a garak report, an Inspect log,
a PyRIT memory database, promptfoo results, a JailbreakBench artifact or
HarmBench classified completions and writes an ordinary campaign directory
(manifest + attempts) that ``campaign evidence``, ``assess`` and the registry
read unchanged. What the source lacks is listed in the manifest's
``spec.import.gaps`` and surfaces as evidence notes; a mapping file supplies it.
"""

from jbgrade.interop._compare import Comparison, DomainChange, compare_campaigns, mcnemar_exact
from jbgrade.interop._export import (
    EXPORTS,
    JBG_EXTENSION_ID,
    atlas_techniques,
    export_report,
    jbg_record,
)
from jbgrade.interop._failon import FailOn, parse_fail_on
from jbgrade.interop._registry import IMPORTERS, import_evidence
from jbgrade.interop._sink import ImportMap, ImportResult, TargetMap

__all__ = [
    "EXPORTS",
    "IMPORTERS",
    "JBG_EXTENSION_ID",
    "Comparison",
    "DomainChange",
    "FailOn",
    "ImportMap",
    "ImportResult",
    "TargetMap",
    "atlas_techniques",
    "compare_campaigns",
    "export_report",
    "import_evidence",
    "jbg_record",
    "mcnemar_exact",
    "parse_fail_on",
]
