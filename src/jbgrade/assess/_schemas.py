"""JSON Schemas of the assess layer's formats, generated from the pydantic models.

The committed files under ``data/`` are what ``jbgrade schema show`` publishes;
``scripts/gen_assess_schemas.py`` regenerates them and a test checks they match.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from jbgrade.assess._calibrate import CalibrationReport, CalibrationScenario
from jbgrade.assess._case_model import Case
from jbgrade.assess._dispute_records import Reconciliation
from jbgrade.assess._records import AssessmentReport

__all__ = ["SCHEMA_FILES", "generated_schemas"]

#: schema name -> (model, file under jbgrade/assess/data, title)
SCHEMA_FILES: dict[str, tuple[type[BaseModel], str, str]] = {
    "case": (Case, "case.schema.json", "jbgrade case file (format 1)"),
    "report": (AssessmentReport, "report.schema.json", "jbgrade assessment report (format 2)"),
    "reconciliation": (
        Reconciliation,
        "reconciliation.schema.json",
        "jbgrade reconciliation record (format 1)",
    ),
    "calibration": (
        CalibrationScenario,
        "calibration.schema.json",
        "jbgrade calibration scenario (format 1)",
    ),
    "calibration-report": (
        CalibrationReport,
        "calibration-report.schema.json",
        "jbgrade calibration report (format 1)",
    ),
}


def generated_schemas() -> dict[str, dict[str, Any]]:
    """name -> JSON Schema (draft 2020-12) generated from the models."""
    out: dict[str, dict[str, Any]] = {}
    for name, (model, _, title) in SCHEMA_FILES.items():
        schema = model.model_json_schema()
        out[name] = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"urn:jbgrade:schema:{name}:{2 if name == 'report' else 1}",
            **{k: v for k, v in schema.items() if k != "title"},
            "title": title,
        }
    return out
