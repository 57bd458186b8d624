"""Reading reports strictly: the evidence part is the evidence record, format 1 migrates."""

from __future__ import annotations

import json
from typing import Any

import pytest

from jbgrade import ReportIntegrityError
from jbgrade.assess import read_report, verify_report
from jbgrade.evidence import AttackEvidence, TargetInfo
from tests.assess.demo import Demo


def test_the_report_evidence_is_the_evidence_record(demo: Demo) -> None:
    ev = demo.lab_report.evidence
    assert ev is not None
    # No copies: the attack's evidence is the evidence package's own record.
    assert type(ev.attack) is AttackEvidence
    assert set(ev.derived()) <= set(ev.attack.metrics)
    assert all(m.value is not None for m in ev.derived().values())


def _format_1(report: dict[str, Any]) -> dict[str, Any]:
    """The report as format 1 wrote it: flattened evidence copies plus the record as ``raw``."""
    data = dict(report)
    data["format_version"] = 1
    for k in ("content_sha256", "signature", "read_notes"):
        data.pop(k, None)
    data["decisions"] = [
        {**pd, "decision": {k: v for k, v in pd["decision"].items() if k != "format_version"}}
        for pd in data["decisions"]
    ]
    ev = data["evidence"]
    atk = ev["attack"]
    raw = {
        "format_version": 1,
        "campaign": ev["campaign"],
        "targets": [
            TargetInfo(
                id=t["target"], model=t["model"], vendor=t["vendor"], layers=t["layers"]
            ).model_dump(mode="json")
            for t in atk["targets"]
        ],
        "attacks": [atk],
        "counts": ev["counts"],
        "judges": [],
        "notes": [],
    }
    data["evidence"] = {
        "campaign": ev["campaign"],
        "attack": atk["attack"],
        "attempts": ev["counts"]["total"],
        "errors": ev["counts"]["errors"],
        "targets": [],
        "rates": [],
        "transfer": [],
        "derived": {},
        "notes": [],
        "raw": raw,
    }
    return data


def test_a_format_1_report_gets_its_evidence_back_from_raw(demo: Demo) -> None:
    published = demo.lab_report.model_dump(mode="json")
    old = read_report(json.dumps(_format_1(published)))
    assert old.read_notes and "format 1" in old.read_notes[0]
    assert old.evidence is not None and demo.lab_report.evidence is not None
    assert old.evidence.attack == demo.lab_report.evidence.attack
    assert old.evidence.counts == demo.lab_report.evidence.counts
    verify_report(old)  # grade and decisions still recompute


def test_a_format_1_report_without_raw_loses_only_its_evidence(demo: Demo) -> None:
    data = _format_1(demo.lab_report.model_dump(mode="json"))
    del data["evidence"]["raw"]
    old = read_report(json.dumps(data))
    assert old.evidence is None
    assert any("evidence" in n for n in old.read_notes[1:])


def test_decisions_under_bundle_format_1_still_verify(demo: Demo) -> None:
    from jbgrade import ReportIntegrityError
    from jbgrade.policy import load_profile

    data = demo.lab_report.model_dump(mode="json")
    for pd in data["decisions"]:
        prof = load_profile(pd["profile"])
        assert pd["decision"]["bundle_sha256"] == prof.bundle_sha256  # format 2 when written
        pd["decision"]["bundle_sha256"] = prof.legacy_bundle_sha256
    verify_report(read_report(json.dumps(data)))
    data["decisions"][0]["decision"]["bundle_sha256"] = "0" * 64
    check = verify_report(read_report(json.dumps(data)))
    assert any("not recomputed" in n for n in check.notes)
    data["decisions"][0]["decision"]["bundle_sha256"] = load_profile(
        data["decisions"][0]["profile"]
    ).legacy_bundle_sha256
    data["decisions"][0]["decision"]["action"] = "none"
    try:
        verify_report(read_report(json.dumps(data)))
    except ReportIntegrityError as exc:
        assert exc.field == "decisions[0].decision.action"
    else:
        raise AssertionError("a tampered format 1 decision verified")


def test_a_format_1_report_gets_its_m_cg_provenance_in_the_evidence_shape(demo: Demo) -> None:
    from jbgrade.evidence import CGFigures, CGThresholds

    data = _format_1(demo.lab_report.model_dump(mode="json"))
    row = next(m for m in data["metrics"] if m["metric"] == "CG")
    # The shape assess wrote for JBG 1.1's M-CG before design 0190.
    row["measured"] = {
        "value": "S",
        "rule": "M-CG",
        "summary": "M-CG: gain over the best comparator ...",
        "provenance": {
            "figures": {"gain": 0.4, "low": 0.32, "high": 0.48, "comparator": None, "domain": "W"},
            "thresholds": {"N": "high < 0.10", "S": "low >= 0.30", "L": "low > 0"},
            "per_target": {},
            "near_boundary": False,
        },
    }
    old = read_report(json.dumps(data))
    cg = next(m for m in old.metrics if m.metric == "CG").measured
    assert cg is not None
    assert isinstance(cg.provenance.figures, CGFigures)
    assert isinstance(cg.provenance.thresholds, CGThresholds)
    assert json.loads(cg.provenance.model_dump_json())["figures"] == {
        "basis": "gain",
        "domain": "W",
        "gain": 0.4,
        "interval": [0.32, 0.48],
    }
    assert cg.provenance.thresholds.N_high_below == 0.1
    # Format 2 has no such migration: the old shape is refused, naming the key.
    fmt2 = demo.lab_report.model_dump(mode="json")
    fmt2_row = next(m for m in fmt2["metrics"] if m["metric"] == "CG")
    fmt2_row["measured"] = row["measured"]
    with pytest.raises(ReportIntegrityError) as err:
        read_report(json.dumps(fmt2))
    assert err.value.field is not None and err.value.field.endswith("provenance.figures.low")
