"""Exports of the demo's report validate with the ecosystem's validators and round-trip."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from jbgrade._errors import InputError
from jbgrade.interop import JBG_EXTENSION_ID, atlas_techniques, export_report, jbg_record

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from jbgrade.cli._demo import copy_demo_inputs

    d = tmp_path_factory.mktemp("demo")
    copy_demo_inputs(d / "cases")
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "jbgrade",
            "assess",
            str(d / "cases/regulator.yaml"),
            "--out",
            str(d / "o"),
            "--no-pdf",
            "-q",
        ],
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"},
    )
    assert r.returncode == 0, r.stderr
    data: dict[str, Any] = json.loads((d / "o/report.json").read_text("utf-8"))
    return data


def test_stix_bundle_parses_strictly_and_round_trips(report: dict[str, Any]) -> None:
    import stix2

    b = export_report("stix", report)
    parsed = stix2.parse(b, allow_custom=False)  # unregistered custom properties would raise
    vuln = next(o for o in parsed.objects if o.type == "vulnerability")
    ext = dict(vuln.extensions[JBG_EXTENSION_ID])
    rec = jbg_record(report)
    for k in ("case_id", "vector", "score", "label", "systemic", "provisional", "decisions"):
        assert ext[k] == rec[k], k
    assert any(
        o.type == "extension-definition" and o.id == JBG_EXTENSION_ID for o in parsed.objects
    )
    atlas = {
        r.external_id
        for o in parsed.objects
        if o.type == "attack-pattern"
        for r in o.external_references
        if r.source_name == "mitre-atlas"
    }
    assert "AML.T0054" in atlas
    assert report["case"]["id"] in json.dumps(b) and "CVE-" not in json.dumps(b)


def test_csaf_passes_the_csaf_validators_mandatory_tests(
    report: dict[str, Any], tmp_path: Path
) -> None:
    doc = export_report("csaf", report)
    f = tmp_path / "a.json"
    f.write_text(json.dumps(doc), encoding="utf-8")
    exe = shutil.which("csaf", path=str(Path(sys.executable).parent))
    assert exe is not None, "the csaf validator is a dev dependency"
    r = subprocess.run(
        [exe, "validate", "--no-network", "--spec-version", "v20", str(f)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "[FAIL]" not in r.stdout
    rec = json.loads(
        next(n["text"] for n in doc["document"]["notes"] if n["title"] == "JBG record (JSON)")
    )
    assert rec == jbg_record(report)
    assert doc["document"]["tracking"]["id"] == report["case"]["id"]
    assert doc["document"]["aggregate_severity"]["text"] == report["grade"]["severity"]
    obligations = [o for d in rec["decisions"] for o in d["obligations"]]
    assert obligations and all(o["due"] for o in obligations)


def test_payload_is_never_exported(report: dict[str, Any]) -> None:
    payload = (ROOT / "src/jbgrade/assess/data/demo/payload.txt").read_text("utf-8").strip()
    for fmt in ("stix", "csaf"):
        assert payload[:40] not in json.dumps(export_report(fmt, report))


def test_atlas_ids_and_bad_input() -> None:
    assert atlas_techniques("indirect-injection") == ["AML.T0054", "AML.T0051", "AML.T0051.001"]
    assert atlas_techniques(None) == ["AML.T0054"]
    with pytest.raises(InputError):
        export_report("sarif-x", {})
    with pytest.raises(InputError):
        jbg_record({"nope": 1})


def test_cli_export_writes_a_file(report: dict[str, Any], tmp_path: Path) -> None:
    rp = tmp_path / "report.json"
    rp.write_text(json.dumps(report), encoding="utf-8")
    out = tmp_path / "b.stix.json"
    r = subprocess.run(
        [sys.executable, "-m", "jbgrade", "export", "stix", str(rp), "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"},
    )
    assert r.returncode == 0, r.stderr
    assert json.loads(out.read_text("utf-8"))["type"] == "bundle"
    r = subprocess.run(
        [sys.executable, "-m", "jbgrade", "export", "nope", str(rp)],
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"},
    )
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
