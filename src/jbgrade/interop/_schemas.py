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

__all__ = ["SCHEMA_FILES", "build_schemas", "write_schemas"]

SCHEMA_FILES = {
    "attempt": "data/attempt.schema.json",
    "manifest": "data/manifest.schema.json",
    "import-map": "data/import-map.schema.json",
    "stix-jbg-extension": "data/stix-jbg-extension.schema.json",
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
            "decisions": {
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
            },
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
    }


def write_schemas(root: Path) -> None:
    """Write the schema files under ``root`` (the interop package directory)."""
    for name, schema in build_schemas().items():
        (root / SCHEMA_FILES[name]).write_text(
            json.dumps(schema, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
