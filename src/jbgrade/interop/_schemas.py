"""Published JSON Schemas of the campaign directory's records and of the JBG export extension.

``jbgrade schema show attempt|manifest|import-map|stix-jbg-extension`` prints
them; ``write_schemas`` regenerates the files under ``data/`` (a test checks
they match the models), so other tools can write jbgrade campaigns directly.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jbgrade.harness import Manifest
from jbgrade.interop._sink import ImportMap
from jbgrade.records import Attempt

__all__ = ["SCHEMA_FILES", "VENDORED_SCHEMAS", "build_schemas", "write_schemas"]

SCHEMA_FILES = {
    "attempt": "data/attempt.schema.json",
    "manifest": "data/manifest.schema.json",
    "import-map": "data/import-map.schema.json",
    "stix-jbg-extension": "data/stix-jbg-extension.schema.json",
    "jef-export": "data/jef-export.schema.json",
}

#: Vendored schemas of the export formats (data/schemas/SOURCES.md says where each is from).
VENDORED_SCHEMAS = {
    "sarif": "data/schemas/sarif-schema-2.1.0.json",
    "avid-report": "data/schemas/avid-report.schema.json",
    "atlas-case-study": "data/schemas/atlas_website_case_study_schema.json",
    "csaf-2.0": "data/schemas/csaf-2.0.schema.json",
    "csaf-2.1": "data/schemas/csaf-2.1.schema.json",
}


def _wrap(name: str, title: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"urn:jbgrade:schema:{name}:1",
        **schema,
        "title": title,
    }


def _stix_extension() -> dict[str, Any]:
    obligation = {
        "type": "object",
        "properties": {k: {"type": ["string", "null"]} for k in ("id", "party", "what", "due")},
    }
    return {
        "type": "object",
        "required": ["extension_type", "case_id", "vector", "score", "label"],
        "properties": {
            "extension_type": {"const": "property-extension"},
            "case_id": {"type": "string", "description": "jbgrade case id (never a CVE)."},
            "standard": {"type": ["string", "null"]},
            "vector": {"type": "string", "description": "The JBG vector graded."},
            "score": {"type": "number"},
            "label": {"type": "string", "description": "Severity label."},
            "systemic": {"type": "boolean"},
            "provisional": {"type": "boolean"},
            "decisions": _decisions(obligation),
            "atlas": {
                "type": "array",
                "items": {"type": "string", "pattern": r"^AML\.T\d{4}(\.\d{3})?$"},
                "description": "MITRE ATLAS technique ids of the attack.",
            },
            "payload": {
                "type": "string",
                "description": "The jailbreak payload: only with --include-payload, from a "
                "registry case the exporter may read, outside its embargo.",
            },
        },
    }


def _decisions(obligation: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "profile": {"type": "string"},
                "action": {"type": "string"},
                "provisional": {"type": "boolean"},
                "obligations": {"type": "array", "items": obligation},
            },
        },
    }


def _jef_export() -> dict[str, Any]:
    count = {"type": ["integer", "null"], "minimum": 0}
    return {
        "type": "object",
        "required": ["format", "format_version", "case_id", "jef", "jbg"],
        "properties": {
            "format": {"const": "jbgrade-jef"},
            "format_version": {"const": 1},
            "case_id": {"type": "string"},
            "attack": {"type": ["string", "null"]},
            "jef": {
                "type": "object",
                "required": ["inputs", "missing", "score", "formula"],
                "properties": {
                    "inputs": {
                        "type": "object",
                        "properties": {
                            "vendors": count,
                            "models": count,
                            "subjects": count,
                            "fidelity": {"type": ["number", "null"], "minimum": 0, "maximum": 100},
                        },
                    },
                    "sources": {"type": "object", "additionalProperties": {"type": "string"}},
                    "missing": {
                        "type": "array",
                        "items": {"enum": ["vendors", "models", "subjects", "fidelity"]},
                    },
                    "score": {"type": ["number", "null"], "minimum": 0, "maximum": 10},
                    "components": {"type": "object"},
                    "range": {
                        "type": "object",
                        "properties": {"low": {"type": "number"}, "high": {"type": "number"}},
                    },
                    "formula": {"type": "string"},
                    "informative": {"type": "boolean"},
                    "notes": {"type": "array", "items": {"type": "string"}},
                },
            },
            "jbg": {"type": "object", "description": "The JBG record (as in every export)."},
        },
    }


def build_schemas() -> dict[str, dict[str, Any]]:
    """Each published schema by name."""
    return {
        "attempt": _wrap(
            "attempt",
            "jbgrade Attempt record (one line of attempts*.jsonl)",
            Attempt.model_json_schema(),
        ),
        "manifest": _wrap(
            "manifest", "jbgrade campaign manifest (manifest.json)", Manifest.model_json_schema()
        ),
        "import-map": _wrap(
            "import-map", "jbgrade evidence import mapping file", ImportMap.model_json_schema()
        ),
        "stix-jbg-extension": _wrap(
            "stix-jbg-extension", "JBG STIX 2.1 property extension", _stix_extension()
        ),
        "jef-export": _wrap("jef-export", "jbgrade JEF export (0DIN JEF score)", _jef_export()),
    }


def write_schemas(root: Path, docs: Path | None = None) -> None:
    """Write the schema files under ``root`` (the interop package directory), and the
    STIX extension's published copy under ``docs`` (docs/schemas/)."""
    for name, schema in build_schemas().items():
        (root / SCHEMA_FILES[name]).write_text(
            json.dumps(schema, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
    if docs is not None:
        (docs / "stix-jbg-extension-1.json").write_text(
            json.dumps(build_schemas()["stix-jbg-extension"], indent=2, sort_keys=True) + "\n",
            encoding="utf-8",
        )
