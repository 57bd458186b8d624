"""``jbgrade schema list | show NAME``: the published JSON Schemas."""

from __future__ import annotations

import json
import sys
from importlib import resources
from typing import Annotated, Any

import typer

from jbgrade._errors import InputError
from jbgrade.cli._common import print_json

__all__ = ["SCHEMAS", "load_schema", "register"]

# name -> (package, resource path). Each layer ships its own schema files.
SCHEMAS: dict[str, tuple[str, str]] = {
    "grade": ("jbgrade.rubric", "data/grade.schema.json"),
    "campaign": ("jbgrade.harness", "data/campaign.schema.json"),
    "policy-profile": ("jbgrade.policy", "data/policy-profile.schema.json"),
    "decision": ("jbgrade.policy", "data/decision.schema.json"),
    "evidence": ("jbgrade.evidence", "data/evidence.schema.json"),
    "case": ("jbgrade.assess", "data/case.schema.json"),
    "report": ("jbgrade.assess", "data/report.schema.json"),
    "reconciliation": ("jbgrade.assess", "data/reconciliation.schema.json"),
    "calibration": ("jbgrade.assess", "data/calibration.schema.json"),
    "calibration-report": ("jbgrade.assess", "data/calibration-report.schema.json"),
    "attempt": ("jbgrade.interop", "data/attempt.schema.json"),
    "manifest": ("jbgrade.interop", "data/manifest.schema.json"),
    "import-map": ("jbgrade.interop", "data/import-map.schema.json"),
    "stix-jbg-extension": ("jbgrade.interop", "data/stix-jbg-extension.schema.json"),
    # the export formats' schemas (vendored: src/jbgrade/interop/data/schemas/SOURCES.md)
    "jef-export": ("jbgrade.interop", "data/jef-export.schema.json"),
    "sarif": ("jbgrade.interop", "data/schemas/sarif-schema-2.1.0.json"),
    "avid-report": ("jbgrade.interop", "data/schemas/avid-report.schema.json"),
    "atlas-case-study": ("jbgrade.interop", "data/schemas/atlas_website_case_study_schema.json"),
    "csaf-2.0": ("jbgrade.interop", "data/schemas/csaf-2.0.schema.json"),
    "csaf-2.1": ("jbgrade.interop", "data/schemas/csaf-2.1.schema.json"),
}


def load_schema(name: str) -> dict[str, Any]:
    if name not in SCHEMAS:
        raise InputError(f"unknown schema {name!r}; known: {', '.join(sorted(SCHEMAS))}")
    pkg, res = SCHEMAS[name]
    data: dict[str, Any] = json.loads(resources.files(pkg).joinpath(res).read_text("utf-8"))
    return data


def list_schemas(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the published JSON Schemas."""
    if as_json:
        print_json([{"name": n, "title": load_schema(n).get("title", "")} for n in sorted(SCHEMAS)])
        return
    # Plain tab-separated lines (rich would expand the tab): easy to cut/awk.
    for name in sorted(SCHEMAS):
        sys.stdout.write(f"{name}\t{load_schema(name).get('title', '')}\n")


def show_schema(
    name: Annotated[str, typer.Argument(help="Schema name (see 'schema list').")],
) -> None:
    """Print one JSON Schema."""
    print_json(load_schema(name))


def register(app: typer.Typer) -> None:
    sub = typer.Typer(help="Published JSON Schemas of jbgrade's formats.", no_args_is_help=True)
    sub.command("list")(list_schemas)
    sub.command("show")(show_schema)
    app.add_typer(sub, name="schema")
