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
from jbgrade.evidence import evidence_schema, load_campaign_evidence, read_campaign_attempts
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
    _write(tmp_path / "c", arm("t1", 1, 3))
    p = tmp_path / "c" / "attempts.jsonl"
    p.write_text(p.read_text() + '{"key": "x"}\n')
    with pytest.raises(CampaignDirError) as ei:
        load_campaign_evidence(tmp_path / "c")
    assert ei.value.line == 4 and str(p) in str(ei.value)


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
