"""Interoperability: evidence in from other red-team tools' result files, exports out.

``import_evidence(FORMAT, PATH, OUT)`` reads a garak report, an Inspect log,
a PyRIT memory database, promptfoo results, a JailbreakBench artifact or
HarmBench classified completions and writes an ordinary campaign directory
(manifest + attempts) that ``campaign evidence``, ``assess`` and the registry
read unchanged. What the source lacks is listed in the manifest's
``spec.import.gaps`` and surfaces as evidence notes; a mapping file supplies it.
"""

from jbgrade.interop._case import case_report
from jbgrade.interop._compare import Comparison, DomainChange, compare_campaigns, mcnemar_exact
from jbgrade.interop._csaf_publisher import CsafPublisher, csaf_publisher
from jbgrade.interop._export import (
    JBG_EXTENSION_ID,
    JBG_EXTENSION_SCHEMA_URN,
    atlas_names,
    atlas_techniques,
    jbg_record,
    report_atlas,
)
from jbgrade.interop._failon import FailOn, parse_fail_on
from jbgrade.interop._registry import (
    EXPORTS,
    IMPORTERS,
    Exporter,
    ExportOptions,
    Importer,
    ImportOptions,
    export_report,
    exporter,
    import_evidence,
    render_export,
)
from jbgrade.interop._sink import ImportMap, ImportResult, TargetMap

__all__ = [
    "EXPORTS",
    "IMPORTERS",
    "JBG_EXTENSION_ID",
    "JBG_EXTENSION_SCHEMA_URN",
    "Comparison",
    "CsafPublisher",
    "DomainChange",
    "ExportOptions",
    "Exporter",
    "FailOn",
    "ImportMap",
    "ImportOptions",
    "ImportResult",
    "Importer",
    "TargetMap",
    "atlas_names",
    "atlas_techniques",
    "case_report",
    "compare_campaigns",
    "csaf_publisher",
    "export_report",
    "exporter",
    "import_evidence",
    "jbg_record",
    "mcnemar_exact",
    "parse_fail_on",
    "render_export",
    "report_atlas",
]
