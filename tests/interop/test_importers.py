"""Importers read fixtures produced by running the real tools against jbgrade's reference
target (see fixtures/README.md), and the normal evidence path reads what they write."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from jbgrade._errors import InputError
from jbgrade.evidence import load_campaign_evidence, read_campaign_attempts
from jbgrade.interop import import_evidence

FIX = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).resolve().parents[2]
GARAK = FIX / "garak/reference.report.jsonl"


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jbgrade", *args],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin", "COLUMNS": "200"},
        check=False,
    )


def _garak_evals() -> list[dict[str, object]]:
    out = []
    for line in GARAK.read_text("utf-8").splitlines():
        rec = json.loads(line)
        if rec["entry_type"] == "eval":
            out.append(rec)
    return out


def test_garak_verdicts_match_garaks_own_eval_counts(tmp_path: Path) -> None:
    res = import_evidence("garak", GARAK, tmp_path / "c")
    assert res.tool == "garak" and res.tool_version == "0.17.1"
    attempts = read_campaign_attempts(tmp_path / "c")
    hits: Counter[tuple[str, str]] = Counter()
    totals: Counter[tuple[str, str]] = Counter()
    for a in attempts:
        for v in a.verdicts:
            det = str(v.spec["detector"])
            totals[(a.attack, det)] += 1
            hits[(a.attack, det)] += v.success
    evals = _garak_evals()
    assert evals
    for e in evals:
        key = (str(e["probe"]), str(e["detector"]))
        assert totals[key] == e["total_evaluated"], key
        assert hits[key] == e["fails"], key


def test_garak_success_rate_per_probe_matches_eval_with_one_deciding_detector(
    tmp_path: Path,
) -> None:
    m = tmp_path / "map.yaml"
    m.write_text(
        "detectors: [mitigation.MitigationBypass]\n"
        "domain: S\ncategory: product-keys\n"
        "target: {vendor: jbgrade-reference, layers: []}\n",
        encoding="utf-8",
    )
    import_evidence("garak", GARAK, tmp_path / "c", m)
    ev = load_campaign_evidence(tmp_path / "c")
    for e in _garak_evals():
        if e["detector"] != "mitigation.MitigationBypass":
            continue
        rate = ev.attack(str(e["probe"])).targets[0].attack
        assert (rate.successes, rate.n) == (e["fails"], e["total_evaluated"])
    # the mapping supplied the domain and vendor: no such gap left
    assert not any("hazard domain" in n for n in ev.notes)
    assert ev.attacks[0].metrics["HD"].value == "S"


def test_garak_provenance_on_every_verdict(tmp_path: Path) -> None:
    res = import_evidence("garak", GARAK, tmp_path / "c")
    manifest = json.loads((tmp_path / "c/manifest.json").read_text("utf-8"))
    imp = manifest["spec"]["import"]
    assert imp["tool"] == "garak" and imp["tool_version"] == "0.17.1"
    for a in read_campaign_attempts(res.directory):
        for v in a.verdicts:
            assert v.spec["source_sha256"] == imp["sha256"]
            assert v.spec["record_id"]
            assert v.judge.startswith("garak:")


def test_gaps_are_reported_in_the_evidence_and_hd_is_not_guessed(tmp_path: Path) -> None:
    import_evidence("garak", GARAK, tmp_path / "c")
    ev = load_campaign_evidence(tmp_path / "c")
    text = " ".join(ev.notes)
    assert "baseline" in text and "hazard domain" in text and "vendor" in text
    assert all(a.metrics["HD"].value is None for a in ev.attacks)


@pytest.mark.parametrize(
    ("fmt", "path"),
    [
        ("garak", "garak/reference.report.jsonl"),
        ("inspect", "inspect/reference.eval"),
        ("inspect", "inspect/reference.json"),
        ("promptfoo", "promptfoo/results.json"),
        ("pyrit", "pyrit/pyrit.db"),
    ],
)
def test_cli_import_then_campaign_evidence(fmt: str, path: str, tmp_path: Path) -> None:
    out = tmp_path / "c"
    r = _cli("evidence", "import", fmt, str(FIX / path), "--out", str(out))
    assert r.returncode == 0, r.stderr
    r = _cli("campaign", "evidence", str(out), "--json")
    assert r.returncode == 0, r.stderr
    ev = json.loads(r.stdout)
    assert ev["counts"]["judged"] > 0
    assert ev["attacks"]


def test_inspect_eval_and_json_logs_agree_with_inspects_scores(tmp_path: Path) -> None:
    a = import_evidence("inspect", FIX / "inspect/reference.eval", tmp_path / "a")
    b = import_evidence("inspect", FIX / "inspect/reference.json", tmp_path / "b")
    assert a.tool_version == "0.3.285"
    sa = read_campaign_attempts(a.directory)
    sb = read_campaign_attempts(b.directory)
    assert len(sa) == len(sb) == 18
    # the count of C scores in the .json log, read plainly
    log = json.loads((FIX / "inspect/reference.json").read_text("utf-8"))
    correct = sum(s["scores"]["includes"]["value"] == "C" for s in log["samples"])
    assert sum(bool(x.success) for x in sa) == sum(bool(x.success) for x in sb) == correct
    # domains come from the task's sample metadata
    assert {x.domain for x in sa} == {"G", "S", "W", "C"}


def test_promptfoo_basic_strategy_is_the_baseline_and_failures_are_successes(
    tmp_path: Path,
) -> None:
    res = import_evidence("promptfoo", FIX / "promptfoo/results.json", tmp_path / "c")
    assert res.tool_version == "0.123.1"
    data = json.loads((FIX / "promptfoo/results.json").read_text("utf-8"))
    failed = sum(not r["success"] for r in data["results"]["results"])
    got = read_campaign_attempts(res.directory)
    assert sum(bool(a.success) for a in got) == failed
    assert Counter(a.arm for a in got) == Counter(
        "baseline" if r["testCase"]["metadata"]["strategyId"] == "basic" else "attack"
        for r in data["results"]["results"]
    )


def test_pyrit_outcomes_match_the_attack_result_table(tmp_path: Path) -> None:
    import sqlite3

    res = import_evidence("pyrit", FIX / "pyrit/pyrit.db", tmp_path / "c")
    assert res.tool_version == "1.1.0"
    con = sqlite3.connect(FIX / "pyrit/pyrit.db")
    wins = con.execute(
        "select count(*) from AttackResultEntries where outcome='success'"
    ).fetchone()
    con.close()
    got = read_campaign_attempts(res.directory)
    assert sum(bool(a.success) for a in got) == wins[0]
    assert any(v.judge == "pyrit:SubStringScorer" for a in got for v in a.verdicts)


def test_malformed_garak_line_exits_2_naming_file_line_and_field(tmp_path: Path) -> None:
    lines = GARAK.read_text("utf-8").splitlines()
    for i, line in enumerate(lines):
        rec = json.loads(line)
        if rec["entry_type"] == "attempt" and rec["status"] == 2:
            del rec["outputs"]
            lines[i] = json.dumps(rec)
            bad_line = i + 1
            break
    bad = tmp_path / "bad.report.jsonl"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    r = _cli("evidence", "import", "garak", str(bad), "--out", str(tmp_path / "c"))
    assert r.returncode == 2
    err = r.stderr.strip()
    assert len(err.splitlines()) == 1
    assert f"{bad}:{bad_line}" in err and "outputs" in err
    assert not (tmp_path / "c/manifest.json").exists()


def test_truncated_json_log_exits_2_one_line(tmp_path: Path) -> None:
    data = (FIX / "inspect/reference.json").read_bytes()
    bad = tmp_path / "cut.json"
    bad.write_bytes(data[: len(data) // 2])
    r = _cli("evidence", "import", "inspect", str(bad), "--out", str(tmp_path / "c"))
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1 and "cut.json" in r.stderr


def test_unknown_format_and_existing_campaign_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown format"):
        import_evidence("nope", GARAK, tmp_path / "x")
    import_evidence("garak", GARAK, tmp_path / "c")
    with pytest.raises(InputError, match="already holds a campaign"):
        import_evidence("garak", GARAK, tmp_path / "c")


HB = FIX / "harmbench"


def _hb_map(tmp_path: Path) -> Path:
    m = tmp_path / "hb-map.yaml"
    m.write_text(
        "target: {id: gpt-3.5-turbo-1106, vendor: jbgrade-reference}\n"
        "attack: DirectRequest\n"
        f"behaviours: {HB / 'behaviors.csv'}\n",
        encoding="utf-8",
    )
    return m


def test_harmbench_completions_from_the_real_tool_import_unclassified(tmp_path: Path) -> None:
    """Completions HarmBench's own generate_completions.py wrote (GPT API-model class
    against the reference target; scripts/interop/harmbench_run.sh): every record is an
    attempt with HarmBench's test case and generation, domains come from the behaviour
    CSV, and with no classifier label none is counted as a refusal or a success."""
    data = json.loads((HB / "completions.json").read_text("utf-8"))
    cases = json.loads((HB / "test_cases.json").read_text("utf-8"))
    assert data.keys() == cases.keys()
    res = import_evidence("harmbench", HB / "completions.json", tmp_path / "h", _hb_map(tmp_path))
    assert res.tool == "harmbench" and res.attacks == ["DirectRequest"]
    atts = list(read_campaign_attempts(res.directory))
    assert len(atts) == sum(len(v) for v in data.values())
    with (HB / "behaviors.csv").open(encoding="utf-8") as fh:
        sem = {row["BehaviorID"]: row["SemanticCategory"] for row in csv.DictReader(fh)}
    # jbgrade's versioned HarmBench table (behaviours/data/domain_map.json)
    table = {
        "chemical_biological": "C",
        "cybercrime_intrusion": "W",
        "illegal": "W",
        "misinformation_disinformation": "S",
        "harassment_bullying": "S",
        "harmful": "S",
        "copyright": "G",
    }
    for a in atts:
        item = data[a.behaviour_id][0]
        assert a.messages[-1].content == item["test_case"] == cases[a.behaviour_id][0]
        assert a.response == item["generation"]
        assert a.success is None and a.verdicts == []
        assert a.status == "error" and "not classified" in str(a.error)
        assert a.domain == table[sem[a.behaviour_id]]
    assert {a.domain for a in atts} == {"C", "W", "S", "G"}
    notes = " ".join(g["message"] for g in res.gaps)
    assert f"{len(atts)} of {len(atts)} HarmBench completions carry no classifier verdict" in notes
    r = _cli("campaign", "evidence", str(res.directory), "--json")
    assert r.returncode == 0, r.stderr
    ev = json.loads(r.stdout)
    assert ev["counts"]["judged"] == 0


def test_harmbench_classifier_labels_decide_and_minus_one_is_not_a_refusal(
    tmp_path: Path,
) -> None:
    """evaluate_completions.py adds ``label`` (1 yes, 0 no, -1 neither) to each record
    of the completions file. Its 13B classifier cannot run here, so this test adds
    labels itself to the real completions: they check the mapping, not HarmBench."""
    data = json.loads((HB / "completions.json").read_text("utf-8"))
    labels = {}
    for i, (bid, items) in enumerate(sorted(data.items())):
        labels[bid] = (1, 0, -1)[i % 3]
        for it in items:
            it["label"] = labels[bid]
    f = tmp_path / "results.json"
    f.write_text(json.dumps(data), encoding="utf-8")
    res = import_evidence("harmbench", f, tmp_path / "h", _hb_map(tmp_path))
    got = {a.behaviour_id: a for a in read_campaign_attempts(res.directory)}
    for bid, lab in labels.items():
        a = got[bid]
        if lab == -1:
            assert a.success is None and a.status == "error" and "-1" in str(a.error)
        else:
            assert a.success is bool(lab)
            assert [v.spec["detector"] for v in a.verdicts] == ["harmbench-classifier"]
    bad = json.loads(f.read_text("utf-8"))
    first = sorted(bad)[0]
    bad[first][0]["label"] = 2
    f.write_text(json.dumps(bad), encoding="utf-8")
    with pytest.raises(InputError, match=rf"{first}\[0\]\.label"):
        import_evidence("harmbench", f, tmp_path / "k", _hb_map(tmp_path))


def test_jailbreakbench_layouts(tmp_path: Path) -> None:
    jb = tmp_path / "jb.json"
    jb.write_text(
        json.dumps(
            {
                "parameters": {"method": "PAIR", "model": "m1"},
                "jailbreaks": [
                    {
                        "index": 1,
                        "behavior": "x",
                        "category": "Malware/Hacking",
                        "prompt": "[canary] p",
                        "response": "r",
                        "jailbroken": True,
                    },
                    {
                        "index": 2,
                        "behavior": "y",
                        "category": "Privacy",
                        "prompt": None,
                        "response": None,
                        "jailbroken": False,
                    },
                ],
            }
        ),
        encoding="utf-8",
    )
    res = import_evidence("jailbreakbench", jb, tmp_path / "j")
    got2 = {a.behaviour_id: (a.domain, a.status) for a in read_campaign_attempts(res.directory)}
    assert got2 == {"x": ("W", "ok"), "y": ("S", "error")}
    bad = tmp_path / "jb-bad.json"
    bad.write_text(
        json.dumps(
            {
                "parameters": {"method": "PAIR", "model": "m"},
                "jailbreaks": [{"index": 1, "jailbroken": "yes"}],
            }
        ),
        encoding="utf-8",
    )
    with pytest.raises(InputError, match=r"jailbreaks\[0\]\.jailbroken"):
        import_evidence("jailbreakbench", bad, tmp_path / "k")


def test_jailbreakbench_artifact_from_the_real_tool_imports_and_matches_its_counts(
    tmp_path: Path,
) -> None:
    """The artifact JailbreakBench 1.0.0 itself wrote (scripts/interop/jbb_run.py against
    the reference target): one attempt per behaviour, successes = its own count."""
    art = FIX / "jailbreakbench/artifact.json"
    data = json.loads(art.read_text("utf-8"))
    m = tmp_path / "m.yaml"
    m.write_text(
        "target: {id: gpt-3.5-turbo-1106, vendor: jbgrade-reference}\ndomains: {'canary-*': G}\n",
        encoding="utf-8",
    )
    res = import_evidence("jailbreakbench", art, tmp_path / "c", m)
    atts = list(read_campaign_attempts(res.directory))
    assert len(atts) == len(data["jailbreaks"]) == data["parameters"]["number_of_submitted_prompts"]
    assert sum(bool(a.success) for a in atts) == data["parameters"]["total_number_of_jailbreaks"]
    assert {a.attack for a in atts} == {data["parameters"]["method"]}
    r = subprocess.run(
        [sys.executable, "-m", "jbgrade", "campaign", "evidence", str(res.directory), "--json"],
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"},
    )
    assert r.returncode == 0, r.stderr
    ev = json.loads(r.stdout)
    row = ev["attacks"][0]["targets"][0]
    assert row["attack"]["successes"] == data["parameters"]["total_number_of_jailbreaks"]
