"""``jbgrade report verify | sign | keygen`` and ``dispute`` on tampered reports."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from jbgrade.assess import PolicyDecider, assess_case, load_case
from jbgrade.reports import write_assessment_reports
from tests.cli.test_rubric_cli import assert_one_line_error, run

CASE = Path(__file__).parents[1] / "assess" / "data" / "case.yaml"


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report")
    r = assess_case(load_case(CASE), PolicyDecider())
    return write_assessment_reports(r, out, html=False, pdf=False).paths["json"]


def _tamper(src: Path, dest: Path, edit: Callable[[dict[str, Any]], None]) -> Path:
    data = json.loads(src.read_text())
    edit(data)
    dest.write_text(json.dumps(data, indent=2))
    return dest


def _first_due(d: dict[str, Any]) -> None:
    d["decisions"][0]["decision"]["obligations"][0]["due"] = "2031-01-01"


def _set(path: tuple[str | int, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(d: dict[str, Any]) -> None:
        x: Any = d
        for p in path[:-1]:
            x = x[p]
        x[path[-1]] = value

    return edit


TAMPER = [
    (_set(("grade", "score"), 10.0), "grade.score: 10.0 does not follow from the vector"),
    (_set(("grade", "severity"), "Apocalyptic"), "grade.severity: Input should be"),
    (_set(("grade", "systemic"), True), "grade.systemic"),
    (_set(("decisions", 0, "decision", "action"), "none"), "decisions[0].decision.action"),
    (
        _set(("decisions", 0, "decision", "action"), "launch_missiles"),
        "decisions[0].decision.action",
    ),
    (_first_due, "decisions[0].decision.obligations[0].due"),
    (_set(("headline", 0), "Severity None 0.0."), "content_sha256: does not match"),
]


def test_untouched_report_verifies(report: Path) -> None:
    p = run("report", "verify", str(report))
    assert p.returncode == 0, p.stderr
    assert "ok" in p.stdout and "not signed" in p.stdout


@pytest.mark.parametrize(("edit", "field"), TAMPER, ids=[t[1].split(":")[0] for t in TAMPER])
def test_tampered_report_is_rejected_naming_the_field(
    report: Path, tmp_path: Path, edit: Callable[[dict[str, Any]], None], field: str
) -> None:
    bad = _tamper(report, tmp_path / "bad.json", edit)
    p = run("report", "verify", str(bad))
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert len(p.stderr.splitlines()) == 1 and field in p.stderr, p.stderr
    # dispute reads the counter-party's report strictly: exit 2, one line, the same field.
    d = run("dispute", str(report), str(bad))
    assert_one_line_error(d, field)


def test_unreadable_report_exit_2(tmp_path: Path) -> None:
    p = run("report", "verify", str(tmp_path / "missing.json"))
    assert_one_line_error(p, "cannot read the report")
    (tmp_path / "x.json").write_text("{not json")
    assert_one_line_error(run("report", "verify", str(tmp_path / "x.json")), "not JSON")


def test_signed_report_verifies_and_fails_after_a_one_byte_change(
    report: Path, tmp_path: Path
) -> None:
    key = tmp_path / "lab.key"
    assert run("report", "keygen", str(key)).returncode == 0
    assert key.stat().st_mode & 0o777 == 0o600
    signed = tmp_path / "signed.json"
    signed.write_bytes(report.read_bytes())
    p = run("report", "sign", str(signed), "--key", str(key))
    assert p.returncode == 0, p.stderr
    ok = run("report", "verify", str(signed), "--key", f"{key}.pub")
    assert ok.returncode == 0, ok.stderr
    assert "signed by key" in ok.stdout
    # One byte changed inside a string: the content hash no longer matches.
    raw = signed.read_bytes()
    i = raw.index(b"Severity ") + len(b"Severity ")
    changed = tmp_path / "changed.json"
    changed.write_bytes(raw[:i] + bytes([raw[i] ^ 0x20]) + raw[i + 1 :])
    bad = run("report", "verify", str(changed), "--key", f"{key}.pub")
    assert bad.returncode == 1 and "content_sha256" in bad.stderr, bad.stderr
    # A signature whose value was altered fails as a signature.
    data = json.loads(raw)
    sig = data["signature"]["value"]
    data["signature"]["value"] = ("A" if sig[0] != "A" else "B") + sig[1:]
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(data))
    f = run("report", "verify", str(forged))
    assert f.returncode == 1 and "signature.value" in f.stderr, f.stderr
    # Another key: the signature is not by it.
    other = tmp_path / "other.key"
    assert run("report", "keygen", str(other)).returncode == 0
    w = run("report", "verify", str(signed), "--key", f"{other}.pub")
    assert w.returncode == 1 and "signature.public_key" in w.stderr, w.stderr
    # An unsigned report checked against a key fails.
    u = run("report", "verify", str(report), "--key", f"{key}.pub")
    assert u.returncode == 1 and "signature" in u.stderr


def test_format_1_report_still_loads_with_a_note(report: Path, tmp_path: Path) -> None:
    data = json.loads(report.read_text())
    data["format_version"] = 1
    for k in ("content_sha256", "signature", "read_notes"):
        data.pop(k, None)
    for pd in data["decisions"]:
        if pd["decision"]:
            pd["decision"].pop("format_version")
    old = tmp_path / "v1.json"
    old.write_text(json.dumps(data))
    p = run("report", "verify", str(old))
    assert p.returncode == 0, p.stderr
    assert "migrated from report format 1" in p.stdout
