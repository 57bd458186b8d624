"""The published schemas match the models, and a real imported campaign validates against them."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import jsonschema

from jbgrade.interop import export_report, import_evidence
from jbgrade.interop._schemas import SCHEMA_FILES, build_schemas

FIX = Path(__file__).parent / "fixtures"


def _shipped(name: str) -> dict[str, object]:
    text = resources.files("jbgrade.interop").joinpath(SCHEMA_FILES[name]).read_text("utf-8")
    data: dict[str, object] = json.loads(text)
    return data


def test_shipped_schema_files_are_current() -> None:
    for name, schema in build_schemas().items():
        assert _shipped(name) == json.loads(json.dumps(schema)), (
            f"{name}: regenerate with jbgrade.interop._schemas.write_schemas"
        )


def test_imported_campaign_validates_against_attempt_and_manifest_schemas(tmp_path: Path) -> None:
    import_evidence("garak", FIX / "garak/reference.report.jsonl", tmp_path / "c")
    jsonschema.validate(
        json.loads((tmp_path / "c/manifest.json").read_text("utf-8")), _shipped("manifest")
    )
    attempt_schema = _shipped("attempt")
    for line in (tmp_path / "c/attempts.jsonl").read_text("utf-8").splitlines():
        jsonschema.validate(json.loads(line), attempt_schema)


def test_stix_extension_schema_describes_the_export() -> None:
    report = {
        "case": {
            "id": "JBG-2026-0001",
            "title": "t",
            "jailbreak": {"attack": {"kind": "role-play"}},
        },
        "grade": {"vector": "JBG:1.0/x", "score": 1.0, "severity": "Low", "systemic": False},
        "decisions": [{"profile": "p", "decision": {"action": "monitor", "obligations": []}}],
    }
    b = export_report("stix", report)
    vuln = next(o for o in b["objects"] if o["type"] == "vulnerability")
    (ext,) = vuln["extensions"].values()
    jsonschema.validate(ext, _shipped("stix-jbg-extension"))


def test_published_stix_extension_schema_is_current_and_not_a_placeholder() -> None:
    from jbgrade.interop import JBG_EXTENSION_SCHEMA_URN
    from jbgrade.interop._export import extension_schema_ref

    root = Path(__file__).resolve().parents[2]
    published = json.loads((root / "docs/schemas/stix-jbg-extension-1.json").read_text("utf-8"))
    assert published == json.loads(json.dumps(build_schemas()["stix-jbg-extension"]))
    assert published["$id"] == JBG_EXTENSION_SCHEMA_URN == extension_schema_ref()
    assert ".invalid" not in json.dumps(export_report("stix", _REPORT))


_REPORT = {
    "case": {"id": "JBG-2026-0002", "title": "t", "jailbreak": {"attack": {"kind": "template"}}},
    "grade": {"vector": "JBG:1.0/x", "score": 2.0, "severity": "Low", "systemic": False},
    "decisions": [],
}
