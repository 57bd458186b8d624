"""The comparator arm in the harness: spec key, identity, plan, runs, resume, Ray."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from jbgrade import CampaignSpecError
from jbgrade.harness import (
    AttemptStore,
    ReferenceConfig,
    build_plan,
    load_manifest,
    load_spec,
    parse_spec,
    read_attempts,
    run_campaign,
)

from .conftest import EXAMPLES

ROOT = Path(__file__).resolve().parents[2]

SPEC = """\
name: cmp
seeds: [1, 2]
samples: 3
targets:
  - id: lab
    type: reference
    reference: {model: lab, layers: [refusal_training], baseline: {refusal_training: 0.05},
                techniques: {roleplay: {refusal_training: 0.6}}}
comparators:
  - id: pub-a
    type: reference
    reference: {model: pub-a, vendor: other, answer_rate: 0.5}
  - id: pub-b
    type: reference
    reference: {model: pub-b, vendor: third, answer_rate_by_domain: {W: 0.9, C: 0.0}}
attacks: [roleplay]
behaviours:
  - {source: canary, domains: [W], limit: 8}
limits: {concurrency: 4}
"""


def test_specs_without_comparators_keep_their_campaign_id() -> None:
    # The id main had before the key existed (adding it must not move old campaigns).
    path = EXAMPLES / "reference-inprocess.yaml"
    plan = build_plan(load_spec(path), path.parent, str(path))
    assert plan.manifest().campaign == "reference-inprocess-3b3e6225d2b1"
    assert "comparators" not in plan.spec.identity()
    with_key = parse_spec(SPEC)
    assert [c["id"] for c in with_key.identity()["comparators"]] == ["pub-a", "pub-b"]


def test_comparator_ids_are_unique_and_distinct_from_targets() -> None:
    bad = SPEC.replace("id: pub-b", "id: lab")
    with pytest.raises(CampaignSpecError, match="duplicate target or comparator id 'lab'"):
        parse_spec(bad)
    with pytest.raises(Exception, match="refusal_training"):
        ReferenceConfig.model_validate({"answer_rate": 0.5, "layers": ["system_prompt"]})
    with pytest.raises(Exception, match="between 0 and 1"):
        ReferenceConfig.model_validate({"answer_rate_by_domain": {"W": 1.5}})


def test_public_reference_model_answers_at_its_rate() -> None:
    cfg = ReferenceConfig.model_validate({"answer_rate": 0.3, "answer_rate_by_domain": {"C": 0}})
    assert cfg.public and cfg.layers == ["refusal_training"]
    assert cfg.success_probability([], "W", "comparator") == pytest.approx(0.3)
    assert cfg.success_probability(["roleplay"], "W", "attack") == pytest.approx(0.3)
    assert cfg.success_probability([], "C", "comparator") == 0.0
    # A guarded model's comparator arm is its baseline (no attack technique applies).
    guarded = ReferenceConfig.model_validate(
        {"layers": ["refusal_training"], "techniques": {"roleplay": {"refusal_training": 0.9}}}
    )
    assert guarded.success_probability(["roleplay"], "W", "comparator") == pytest.approx(0.1)


async def _run(directory: Path, text: str = SPEC, *, resume: bool = False) -> object:
    plan = build_plan(parse_spec(text), Path("."))
    store = AttemptStore.open(directory, plan.manifest(), resume=resume)
    try:
        return await run_campaign(plan, store)
    finally:
        store.close()
        await plan.aclose()


async def test_comparators_get_the_baseline_prompts_once_per_cell(tmp_path: Path) -> None:
    s = await _run(tmp_path / "c")
    plan = build_plan(parse_spec(SPEC), Path("."))
    per = 2 * 3 * 8
    assert plan.planned == per * (2 * 1 + 2)
    assert s.completed == plan.planned  # type: ignore[attr-defined]
    atts = read_attempts(tmp_path / "c")
    comp = [a for a in atts if a.arm == "comparator"]
    assert len(comp) == 2 * per and {a.target for a in comp} == {"pub-a", "pub-b"}
    assert {a.attack for a in comp} == {"baseline"}
    base = {(a.behaviour_id, a.sample, a.seed): a.messages for a in atts if a.arm == "baseline"}
    for a in comp:  # the same prompt the baseline arm sent
        assert a.messages == base[(a.behaviour_id, a.sample, a.seed)]
    assert {a.vendor for a in comp} == {"other", "third"}
    m = load_manifest(tmp_path / "c")
    assert [c.id for c in m.comparators] == ["pub-a", "pub-b"] and m.planned == plan.planned


async def test_budget_counts_comparator_requests_and_resume_completes(tmp_path: Path) -> None:
    limited = SPEC.replace(
        "limits: {concurrency: 4}", "limits: {concurrency: 4, budget: {requests: 100}}"
    )
    s1 = await _run(tmp_path / "c", limited)
    assert s1.outcome == "budget" and s1.requests <= 100  # type: ignore[attr-defined]
    s2 = await _run(tmp_path / "c", SPEC, resume=True)
    assert s2.outcome == "completed"  # type: ignore[attr-defined]
    atts = read_attempts(tmp_path / "c")
    assert len(atts) == build_plan(parse_spec(SPEC), Path(".")).planned
    assert sum(a.arm == "comparator" for a in atts) == 2 * 2 * 3 * 8


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "jbgrade", *args], capture_output=True, text=True, env=env,
        check=False, timeout=300,
    )  # fmt: skip


def test_status_and_evidence_show_the_comparator_arm(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    out = tmp_path / "c"
    assert _cli("campaign", "run", str(spec), "--out", str(out), "-q").returncode == 0
    st = json.loads(_cli("campaign", "status", str(out), "--json").stdout)
    arms = {(c["target"], c["arm"]) for c in st["cells"]}
    assert {("pub-a", "comparator"), ("pub-b", "comparator"), ("lab", "attack")} <= arms
    text = _cli("campaign", "evidence", str(out)).stdout
    assert "Capability gain over the best comparator" in text and "pub-b" in text
    ev = json.loads(_cli("campaign", "evidence", str(out), "--json").stdout)
    cg = ev["attacks"][0]["capability_gain"]
    assert set(cg["W"]) >= {"target", "best_comparator", "gain", "interval", "comparators"}
    assert cg["W"]["best_comparator"]["id"] == "pub-b"
    assert ev["attacks"][0]["metrics"]["RL"]["value"] in ("L", "M", "H")  # contract kept


def test_ray_executor_writes_the_same_comparator_attempts(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    local, ray = tmp_path / "local", tmp_path / "ray"
    assert _cli("campaign", "run", str(spec), "--out", str(local), "-q").returncode == 0
    r = _cli("campaign", "run", str(spec), "--out", str(ray), "-q", "--executor", "ray")
    assert r.returncode == 0, r.stderr

    def facts(d: Path) -> dict[str, tuple[object, ...]]:
        return {a.key: (a.arm, a.target, a.success, a.response) for a in read_attempts(d)}

    got = facts(ray)
    assert got == facts(local)
    assert sum(v[0] == "comparator" for v in got.values()) == 2 * 2 * 3 * 8
