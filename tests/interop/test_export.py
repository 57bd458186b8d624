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
from jbgrade.interop import (
    EXPORTS,
    JBG_EXTENSION_ID,
    atlas_techniques,
    export_report,
    exporter,
    jbg_record,
    render_export,
)

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "src/jbgrade/interop/data/schemas"
STIX_SCHEMAS = Path(__file__).parent / "vendor/stix2validator"
ROUND_TRIP = ("case_id", "vector", "score", "label", "systemic", "provisional", "decisions")


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


def test_stix_bundle_passes_stix2_validator_with_the_official_schemas(
    report: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    import stix2validator.validator as v
    from stix2validator import ValidationOptions, validate_instance

    # stix2-validator 3.3.1 finds its schemas next to validator.py (the wheel ships none):
    # point it at the vendored oasis-open/cti-stix2-json-schemas (tests/interop/vendor).
    monkeypatch.setattr(v, "__file__", str(STIX_SCHEMAS / "validator.py"))
    b = export_report("stix", report)
    res = validate_instance(b, ValidationOptions(version="2.1"))
    assert res.is_valid, res.as_dict()
    # the only warning is ATLAS references carrying a URL without a hash (302), as
    # MITRE's own ATLAS/ATT&CK bundles do; never a custom-property warning (401)
    warnings = [w for o in [res, *getattr(res, "object_results", [])] for w in o.warnings]
    assert all("{302}" in str(w) and "mitre-atlas" in str(w) for w in warnings), warnings
    strict = validate_instance(b, ValidationOptions(version="2.1", disabled=["302"]))
    assert strict.is_valid and not strict.warnings, strict.as_dict()
    # the validator really validates: a broken object fails
    bad = json.loads(json.dumps(b))
    bad["objects"][2]["created"] = "yesterday"
    assert not validate_instance(bad, ValidationOptions(version="2.1")).is_valid


def _csaf_validate(doc: dict[str, Any], tmp_path: Path, version: str) -> str:
    f = tmp_path / f"a-{version}.json"
    f.write_text(json.dumps(doc), encoding="utf-8")
    exe = shutil.which("csaf", path=str(Path(sys.executable).parent))
    assert exe is not None, "the csaf validator is a dev dependency"
    r = subprocess.run(
        [exe, "validate", "--no-network", "--spec-version", version, str(f)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "[FAIL]" not in r.stdout
    return r.stdout


def test_csaf_21_passes_the_csaf_validators_mandatory_tests(
    report: dict[str, Any], tmp_path: Path
) -> None:
    doc = export_report("csaf-2.1", report)
    out = _csaf_validate(doc, tmp_path, "v21")
    assert "Summary:" in out and "passed" in out
    assert doc["document"]["csaf_version"] == "2.1"
    rec = json.loads(
        next(n["text"] for n in doc["document"]["notes"] if n["title"] == "JBG record (JSON)")
    )
    assert rec == jbg_record(report)
    metric = doc["vulnerabilities"][0]["metrics"][0]["content"]
    assert metric == {"qualitative_severity_rating": report["grade"]["severity"].lower()}


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


def _schema(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SCHEMAS / name).read_text("utf-8"))
    return data


def test_sarif_is_valid_against_the_oasis_schema_and_round_trips(report: dict[str, Any]) -> None:
    import jsonschema

    doc = export_report("sarif", report)
    schema = _schema("sarif-schema-2.1.0.json")
    jsonschema.Draft4Validator(
        schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER
    ).validate(doc)
    run = doc["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert rules[0]["properties"]["security-severity"] == f"{report['grade']['score']:.1f}"
    metric_rules = {r["id"] for r in rules[1:]}
    assert {f"JBG/metric/{m['metric']}" for m in report["metrics"]} == metric_rules
    assert {r["ruleId"] for r in run["results"]} == {rules[0]["id"]}
    assert len(run["results"]) == len(report["case"]["models"])
    assert run["results"][0]["level"] == "error"  # High
    assert {t["id"] for t in run["results"][0]["taxa"]} == {"AML.T0054"}
    assert run["taxonomies"][0]["name"] == "MITRE ATLAS"
    assert run["properties"]["jbg"] == jbg_record(report)
    for res in run["results"]:
        for k in ROUND_TRIP[:-1]:
            assert res["properties"]["jbg"][k] == jbg_record(report)[k]
    # the validator really validates: a wrong level fails
    bad = json.loads(json.dumps(doc))
    bad["runs"][0]["results"][0]["level"] = "critical"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(schema).validate(bad)


def test_avid_report_is_valid_against_avids_model_schema(report: dict[str, Any]) -> None:
    import jsonschema

    doc = export_report("avid", report)
    schema = _schema("avid-report.schema.json")
    jsonschema.Draft202012Validator(schema).validate(doc)
    assert doc["metadata"]["report_id"] == report["case"]["id"]
    assert doc["problemtype"]["classof"] == "LLM Evaluation"
    assert doc["metrics"][0]["results"] == jbg_record(report)
    assert doc["impact"]["atlas"][0] == {
        "tactic": "AML.TA0012",
        "technique": "AML.T0054",
        "description": "LLM Jailbreak",
    }
    bad = json.loads(json.dumps(doc))
    bad["problemtype"]["classof"] = "Jailbreak"  # not one of AVID's classes
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(schema).validate(bad)


def test_atlas_case_study_yaml_is_valid_against_atlas_schema(report: dict[str, Any]) -> None:
    import jsonschema
    import yaml

    text = render_export("atlas", report)
    doc = yaml.safe_load(text)
    schema = _schema("atlas_website_case_study_schema.json")
    jsonschema.Draft7Validator(
        schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    ).validate(doc)
    study = doc["study"]
    assert study["procedure"][0]["technique"] == "AML.T0054"
    assert study["procedure"][0]["tactic"] == "AML.TA0012"
    rec = doc["meta"]["jbgrade"]["jbg"]
    assert rec == json.loads(json.dumps(jbg_record(report)))
    bad = json.loads(json.dumps(doc))
    bad["study"]["procedure"][0]["technique"] = "T1059"  # an ATT&CK id, not ATLAS
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(schema).validate(bad)


def test_jef_names_missing_inputs_and_scores_when_complete(report: dict[str, Any]) -> None:
    import jsonschema

    from jbgrade.crosswalk import jef_score
    from jbgrade.interop._schemas import build_schemas

    doc = export_report("jef", report)
    jsonschema.validate(doc, build_schemas()["jef-export"])
    jef = doc["jef"]
    # the demo campaign has no rubric judge: fidelity is missing, no score, a range
    assert jef["missing"] == ["fidelity"] and jef["score"] is None
    i = jef["inputs"]
    low = jef_score(i["vendors"], i["models"], i["subjects"], 0.0).score
    high = jef_score(i["vendors"], i["models"], i["subjects"], 100.0).score
    assert jef["range"] == {"low": low, "high": high}
    assert i["vendors"] == 1 and i["models"] == 2  # fable-5 and fable-5-mini affected
    assert doc["jbg"] == jbg_record(report)
    # a report without evidence: only the case's models, the rest named missing
    bare = {k: v for k, v in report.items() if k not in ("evidence", "campaign")}
    j2 = export_report("jef", bare)["jef"]
    assert set(j2["missing"]) == {"subjects", "fidelity"} and j2["score"] is None


def test_jef_scores_when_every_input_is_there(report: dict[str, Any]) -> None:
    from jbgrade.interop import _advisories

    def full(*_: Any) -> Any:
        inputs = {"vendors": 2, "models": 3, "subjects": 2, "fidelity": 50.0}
        return inputs, dict.fromkeys(inputs, "test"), []

    orig = _advisories._jef_from_campaign
    _advisories._jef_from_campaign = full
    try:
        jef = export_report("jef", report)["jef"]
    finally:
        _advisories._jef_from_campaign = orig
    assert jef["missing"] == [] and jef["score"] == round(
        10 * (0.25 * 2 / 5 + 0.15 * 3 / 10 + 0.30 * 2 / 3 + 0.30 * 0.5), 2
    )


@pytest.mark.parametrize("fmt", ["csaf", "csaf-2.1", "stix", "sarif", "avid", "atlas", "jef"])
def test_every_export_round_trips_the_record(report: dict[str, Any], fmt: str) -> None:
    text = render_export(fmt, report)
    rec = jbg_record(report)
    for k in ("case_id", "vector", "label"):
        assert str(rec[k]) in text, (fmt, k)
    assert str(rec["score"]) in text
    obligations = [o["what"] for d in rec["decisions"] for o in d["obligations"]]
    assert obligations and all(o in text for o in obligations), fmt
    assert "CVE-" not in text


@pytest.mark.parametrize("fmt", sorted(EXPORTS.names()))
def test_payload_is_never_exported(report: dict[str, Any], fmt: str) -> None:
    payload = (ROOT / "src/jbgrade/assess/data/demo/payload.txt").read_text("utf-8").strip()
    assert payload[:40] not in render_export(fmt, report)
    assert "payload" not in jbg_record(report)


@pytest.mark.parametrize("fmt", sorted(EXPORTS.names()))
def test_exporter_contract(report: dict[str, Any], fmt: str) -> None:
    """Every registered exporter: a dict out, serialisable, no payload, bad input is InputError."""
    exp = exporter(fmt)
    doc = exp(report)
    assert isinstance(doc, dict) and doc
    assert exp.dumps(doc).strip()
    if exp.schema is not None:
        from jbgrade.cli._schema import load_schema

        assert load_schema(exp.schema)  # every export's schema is published
    with pytest.raises(InputError):
        exp({"not": "a report"})


def test_atlas_ids_and_bad_input() -> None:
    assert atlas_techniques("indirect-injection") == ["AML.T0054", "AML.T0051", "AML.T0051.001"]
    assert atlas_techniques(None) == ["AML.T0054"]
    with pytest.raises(InputError):
        export_report("sarif-x", {})
    assert atlas_techniques("role-play", declared=["AML.T0051.000"]) == [
        "AML.T0051.000",
        "AML.T0054",
    ]
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


def test_case_file_atlas_ids_reach_the_html_report_and_the_exports(tmp_path: Path) -> None:
    from jbgrade.cli._demo import copy_demo_inputs

    copy_demo_inputs(tmp_path / "cases")
    case = tmp_path / "cases/regulator.yaml"
    text = case.read_text("utf-8")
    assert "kind: role-play}" in text
    case.write_text(
        text.replace("kind: role-play}", "kind: role-play, atlas: [AML.T0051.000]}", 1),
        encoding="utf-8",
    )
    r = subprocess.run(
        [sys.executable, "-m", "jbgrade", "assess", str(case), "--out", str(tmp_path / "o"),
         "--no-pdf", "-q"],
        capture_output=True, text=True, check=False,
        env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    rep = json.loads((tmp_path / "o/report.json").read_text("utf-8"))
    assert rep["case"]["jailbreak"]["attack"]["atlas"] == ["AML.T0051.000"]
    html = (tmp_path / "o/report.html").read_text("utf-8")
    assert "AML.T0051.000" in html and "AML.T0054" in html
    assert jbg_record(rep)["atlas"] == ["AML.T0051.000", "AML.T0054"]
    sarif = export_report("sarif", rep)
    assert {t["id"] for t in sarif["runs"][0]["results"][0]["taxa"]} == {
        "AML.T0051.000",
        "AML.T0054",
    }
    bad = text.replace("kind: role-play}", "kind: role-play, atlas: [T1059]}", 1)
    case.write_text(bad, encoding="utf-8")
    r = subprocess.run(
        [sys.executable, "-m", "jbgrade", "assess", str(case), "--out", str(tmp_path / "o2"),
         "--no-pdf", "-q"],
        capture_output=True, text=True, check=False,
        env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_attack_plugins_declare_atlas_ids_outside_the_spec_hash() -> None:
    from jbgrade.harness import attack_atlas, attack_from_spec, load_attack

    a = load_attack("prefix-injection")
    assert attack_atlas(a) == ("AML.T0054", "AML.T0051.000")
    assert "atlas" not in a.spec()
    with pytest.raises(InputError):
        attack_from_spec({"id": "x", "template": "{behaviour}", "atlas": ["T1059"]})


def _export_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jbgrade", "export", *args],
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin", **(env or {})},
    )


@pytest.mark.parametrize(("fmt", "spec"), [("csaf", "v20"), ("csaf-2.1", "v21")])
def test_csaf_publisher_comes_from_the_option_then_the_environment(
    report: dict[str, Any], tmp_path: Path, fmt: str, spec: str
) -> None:
    rp = tmp_path / "report.json"
    rp.write_text(json.dumps(report), encoding="utf-8")
    out = tmp_path / "a.json"
    r = _export_cli(
        fmt,
        str(rp),
        "--out",
        str(out),
        "--csaf-publisher-namespace",
        "https://psirt.example.org",
        "--csaf-publisher-name",
        "Example PSIRT",
        env={"JBGRADE_CSAF_PUBLISHER_NAMESPACE": "https://env.example.net"},
    )
    assert r.returncode == 0, r.stderr
    assert "jbgrade.invalid" not in r.stderr
    doc = json.loads(out.read_text("utf-8"))
    pub = doc["document"]["publisher"]
    assert pub == {
        "category": "other",
        "name": "Example PSIRT",
        "namespace": "https://psirt.example.org",
    }
    assert doc["document"]["aggregate_severity"]["namespace"] == "https://psirt.example.org/jbg"
    _csaf_validate(doc, tmp_path, spec)
    r = _export_cli(
        fmt,
        str(rp),
        "--out",
        str(out),
        env={
            "JBGRADE_CSAF_PUBLISHER_NAMESPACE": "https://env.example.net/advisories",
            "JBGRADE_CSAF_PUBLISHER_CATEGORY": "coordinator",
        },
    )
    assert r.returncode == 0, r.stderr
    pub = json.loads(out.read_text("utf-8"))["document"]["publisher"]
    assert pub["namespace"] == "https://env.example.net/advisories"
    assert pub["category"] == "coordinator" and pub["name"] == "jbgrade"


def test_csaf_publisher_default_is_the_invalid_placeholder_and_says_so(
    report: dict[str, Any], tmp_path: Path
) -> None:
    rp = tmp_path / "report.json"
    rp.write_text(json.dumps(report), encoding="utf-8")
    r = _export_cli("csaf", str(rp))
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["document"]["publisher"]["namespace"] == "https://jbgrade.invalid"
    assert "CSAF publisher namespace not set" in r.stderr
    # other formats neither take nor mention a publisher
    r = _export_cli("sarif", str(rp))
    assert r.returncode == 0 and "publisher" not in r.stderr


@pytest.mark.parametrize(
    ("args", "env", "needle"),
    [
        (("csaf", "--csaf-publisher-namespace", "psirt.example.org"), {}, "namespace"),
        (("csaf", "--csaf-publisher-namespace", "ftp://example.org"), {}, "namespace"),
        (("csaf",), {"JBGRADE_CSAF_PUBLISHER_NAMESPACE": "not a url"}, "namespace"),
        (("csaf",), {"JBGRADE_CSAF_PUBLISHER_CATEGORY": "boss"}, "category"),
        (("stix", "--csaf-publisher-namespace", "https://example.org"), {}, "csaf"),
    ],
)
def test_bad_csaf_publisher_settings_exit_2_one_line(
    report: dict[str, Any], tmp_path: Path, args: tuple[str, ...], env: dict[str, str], needle: str
) -> None:
    rp = tmp_path / "report.json"
    rp.write_text(json.dumps(report), encoding="utf-8")
    r = _export_cli(args[0], str(rp), *args[1:], env=env)
    assert r.returncode == 2, r.stdout + r.stderr
    err = r.stderr.strip()
    assert len(err.splitlines()) == 1 and needle in err and "Traceback" not in err
