"""Reading a campaign directory; the published schema; the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from jbgrade import CampaignDirError
from jbgrade.cli._schema import load_schema
from jbgrade.evidence import (
    SkippedLine,
    evidence_schema,
    iter_attempt_lines,
    load_campaign_evidence,
    read_campaign_attempts,
)
from tests.evidence.helpers import arm, mk

LAYERS = ["system_prompt", "input_classifier", "refusal_training", "output_classifier"]


def _write(d: Path, attempts: list, extra_lines: str = "") -> None:  # type: ignore[type-arg]
    d.mkdir(parents=True, exist_ok=True)
    manifest = {
        "format_version": 1,
        "campaign": "demo-abc",
        "targets": [
            {"id": "t1", "type": "reference", "model": "ref-a", "vendor": "acme", "layers": LAYERS},
            {"id": "t2", "type": "openai", "model": "ref-b", "vendor": "other", "layers": []},
        ],
        "attacks": [
            {"id": "jb", "kind": "template", "tags": ["roleplay"]},
            {"id": "baseline", "kind": "baseline"},
        ],
    }
    (d / "manifest.json").write_text(json.dumps(manifest))
    body = "".join(a.model_dump_json() + "\n" for a in attempts)
    (d / "attempts.jsonl").write_text(body + extra_lines)


def _attempts() -> list:  # type: ignore[type-arg]
    out = []
    for t, k in (("t1", 36), ("t2", 30)):
        for d in "SW":
            out += arm(
                t,
                k // 2,
                20,
                behaviours=5,
                domain=d,
                prefix=d,
                specificity=4.0,
                vendor="acme" if t == "t1" else "other",
            )
    out += arm("t1", 1, 20, behaviours=5, arm="baseline", domain="S", prefix="S")
    return out


def test_load_campaign_evidence(tmp_path: Path) -> None:
    atts = _attempts()
    torn = atts[0].model_dump_json()[:40]  # a kill -9 mid-write leaves half a line
    _write(tmp_path / "c", atts, extra_lines=torn)
    ev = load_campaign_evidence(tmp_path / "c")
    assert ev.campaign == "demo-abc" and ev.counts.total == len(atts)
    a = ev.attack()
    assert a.kind == "template" and a.unattended
    assert [t.layers for t in ev.targets] == [LAYERS, []]
    assert a.metrics["TR"].value == "M" and a.metrics["LY"].value == "C"
    # Shards and re-runs: the union of files, the last record of a key winning.
    (tmp_path / "c" / "attempts.shard-1-of-2.jsonl").write_text(
        mk("t1", "S0", False, domain="S", vendor="acme").model_dump_json() + "\n"
    )
    assert len(read_campaign_attempts(tmp_path / "c")) == len(atts)


def test_bad_campaign_dirs(tmp_path: Path) -> None:
    with pytest.raises(CampaignDirError, match="not a directory"):
        load_campaign_evidence(tmp_path / "missing")
    with pytest.raises(CampaignDirError, match=r"no manifest\.json"):
        load_campaign_evidence(tmp_path)


def test_corrupt_lines_are_skipped_reported_and_never_hide_a_valid_record(
    tmp_path: Path,
) -> None:
    atts = _attempts()
    whole = load_campaign_evidence(_dir(tmp_path / "whole", atts))
    d = tmp_path / "c"
    _write(d, atts)
    p = d / "attempts.jsonl"
    lines = p.read_text().splitlines(keepends=True)
    k3, k7 = atts[3].key, atts[7].key
    # Line 4 corrupted on disk (its record re-run and appended later, as --resume
    # does); a record-shaped line without the fields; a corrupt line *after* the
    # last valid record of key 7 (it must not hide it); a line that is not JSON.
    assert lines[3].index(k3) < 100
    lines[3] = lines[3][:120] + "\x00garbage\n"  # the key survives, the record does not
    lines.insert(10, '{"key": "x"}\n')
    lines.append(atts[3].model_dump_json() + "\n")
    lines.append('{"key": "' + k7 + '", "status": "ok", "broken": \n')
    lines.append("not json at all\n")
    p.write_text("".join(lines))
    skipped: list[SkippedLine] = []
    ev = load_campaign_evidence(d, skipped)
    assert [s.line for s in skipped] == [4, 11, len(lines) - 1, len(lines)]
    assert all(s.path == str(p) and "not an attempt record" in s.reason for s in skipped)
    # Nothing completed is lost: the same evidence as the clean directory, plus a note.
    assert ev.counts == whole.counts
    assert ev.attacks == whole.attacks
    assert ev.notes[-1].startswith("skipped 4 corrupt attempt lines (")
    assert f"{p}:4: " in ev.notes[-1] and "and 1 more" in ev.notes[-1]
    got = read_campaign_attempts(d)
    assert len(got) == len(atts) and {a.key for a in got} >= {k3, k7}
    # File order, duplicates included: line 4's record is gone, its repeat appended.
    assert [a.key for a in iter_attempt_lines(d)].count(k3) == 1


def _dir(d: Path, atts: list) -> Path:  # type: ignore[type-arg]
    _write(d, atts)
    return d


def test_schema_is_published_and_current_and_validates(tmp_path: Path) -> None:
    assert (
        load_schema("evidence") == evidence_schema()
    )  # regenerate: scripts/gen_evidence_schema.py
    _write(tmp_path / "c", _attempts())
    ev = load_campaign_evidence(tmp_path / "c")
    jsonschema.validate(ev.model_dump(mode="json"), evidence_schema())


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jbgrade", *args],
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src"), "COLUMNS": "200"},
    )


def test_cli_campaign_evidence(tmp_path: Path) -> None:
    _write(tmp_path / "c", _attempts())
    r = _cli("campaign", "evidence", str(tmp_path / "c"))
    assert r.returncode == 0, r.stderr
    for text in (
        "Derived JBG metrics",
        "M-RL",
        "Transfer matrix",
        "JBG:1.0/LY:C/UN:",
        "[",
        "input_classifier",
    ):
        assert text in r.stdout
    r = _cli("campaign", "evidence", str(tmp_path / "c"), "--json")
    data = json.loads(r.stdout)
    assert data["attacks"][0]["metrics"]["RL"]["rule"] == "M-RL"
    r = _cli("campaign", "evidence", str(tmp_path / "nope"))
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "not a directory" in r.stderr
