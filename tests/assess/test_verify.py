"""Reading reports strictly: the evidence part is the evidence record, format 1 migrates."""

from __future__ import annotations

import json
from typing import Any

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
