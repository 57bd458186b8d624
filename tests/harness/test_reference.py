"""The reference target: deterministic, placeholder-only, matching its configured truth."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from jbgrade import InputError
from jbgrade.harness import ReferenceConfig, ReferenceModel, load_reference_configs
from jbgrade.records import LAYER_ORDER, parse_canary

from .conftest import bad_input_line, campaign_run


def _wilson(k: int, n: int, z: float = 3.29) -> tuple[float, float]:
    # 99.9% interval: the test must not flake, yet a wrong rate must fail it.
    p = k / n
    d = 1 + z * z / n
    c = p + z * z / (2 * n)
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (c - h) / d, (c + h) / d


CFG = ReferenceConfig(
    seed=5,
    techniques={"roleplay": {"system_prompt": 0.9, "refusal_training": 0.5}},
    domains={"C": {"refusal_training": 0.4}},
)


def _hints(arm: str, domain: str, sample: int, tags: list[str]) -> dict[str, object]:
    return {
        "arm": arm,
        "domain": domain,
        "category": "cyber",
        "tags": tags,
        "sample": sample,
        "behaviour_id": "b",
        "attack": "a",
    }


def test_same_inputs_same_reply_and_samples_differ() -> None:
    m = ReferenceModel(CFG)
    msgs = [{"role": "user", "content": "[canary] placeholder"}]
    a = m.respond(msgs, 1, _hints("attack", "G", 0, ["roleplay"]))
    b = ReferenceModel(CFG).respond(msgs, 1, _hints("attack", "G", 0, ["roleplay"]))
    assert a == b
    outcomes = {
        m.respond(msgs, s, _hints("attack", "G", s, ["roleplay"])).stopped_by for s in range(200)
    }
    assert len(outcomes) > 1


def test_measured_rates_match_configured_truth() -> None:
    m = ReferenceModel(CFG)
    for arm, domain, tags in [
        ("attack", "G", ["roleplay"]),
        ("attack", "C", ["roleplay"]),
        ("baseline", "G", []),
        ("attack", "S", ["unknown-tag"]),
    ]:
        n = 3000
        k = 0
        for i in range(n):
            msgs = [{"role": "user", "content": f"behaviour {i}"}]
            r = m.respond(msgs, i, _hints(arm, domain, 0, tags))
            k += r.stopped_by is None
        truth = CFG.success_probability(tags, domain, arm)
        lo, hi = _wilson(k, n)
        assert lo <= truth <= hi, (arm, domain, tags, k / n, truth)
    # The configured weakness is what makes the attack arm differ from baseline.
    assert CFG.success_probability(["roleplay"], "G") > CFG.success_probability([], "G", "baseline")


def test_replies_are_placeholders_with_layer_reports() -> None:
    m = ReferenceModel(CFG)
    seen = set()
    for i in range(400):
        msgs = [{"role": "user", "content": str(i)}]
        r = m.respond(msgs, i, _hints("attack", "W", 0, ["roleplay"]))
        seen.add(r.stopped_by)
        if r.stopped_by is None:
            marker = parse_canary(r.text)
            assert marker is not None
            assert marker["domain"] == "W"
            assert marker["category"] == "cyber"
            assert r.status == "ok"
            assert list(r.layers_passed)[:4] == [x for x in LAYER_ORDER if x != "monitoring"]
            assert r.detected in (True, False)
            assert ("monitoring" in r.layers_passed) == (not r.detected)
        else:
            assert parse_canary(r.text) is None
            assert r.stopped_by not in r.layers_passed
            want = "blocked" if r.stopped_by.endswith("classifier") else "ok"
            assert r.status == want
    assert seen == {None, *(x for x in LAYER_ORDER if x != "monitoring")}


def test_undeclared_layers_never_stop_and_monitoring_optional() -> None:
    cfg = ReferenceConfig(layers=["refusal_training"], baseline={"refusal_training": 0.5})
    m = ReferenceModel(cfg)
    stops = {
        m.respond([{"role": "user", "content": str(i)}], i, None).stopped_by for i in range(100)
    }
    assert stops == {None, "refusal_training"}
    r = m.respond([{"role": "user", "content": "x"}], 0, None)
    assert r.detected is None
    assert cfg.success_probability([], "G") == 0.5


def test_config_file_yaml_1_2_scalars(tmp_path: Path) -> None:
    f = tmp_path / "ref.yaml"
    f.write_text(
        "models:\n  - model: no\n    vendor: yes\n    seed: 1e3\n"
        "    techniques: {on: {refusal_training: 5e-1}}\n  - model: b\n"
    )
    a, b = load_reference_configs(f)
    assert (a.model, a.vendor, a.seed, b.model) == ("no", "yes", 1000, "b")
    assert a.techniques == {"on": {"refusal_training": 0.5}}
    f.write_text("# only defaults\n")
    assert load_reference_configs(f) == [ReferenceConfig()]


def test_config_file_errors_name_file_line_and_field(tmp_path: Path) -> None:
    f = tmp_path / "ref.yaml"
    f.write_text("models:\n  - model: a\n  - model: b\n    baseline:\n      firewall: 0.5\n")
    with pytest.raises(InputError) as ei:
        load_reference_configs(f)
    assert (ei.value.path, ei.value.line, ei.value.field) == (
        str(f),
        5,
        "models[1].baseline.firewall",
    )
    with pytest.raises(InputError, match="no such file"):
        load_reference_configs(tmp_path / "gone.yaml")


def test_cli_duplicate_key_in_config_file_exits_2(tmp_path: Path) -> None:
    (tmp_path / "ref.yaml").write_text(
        "model: m\ntechniques:\n  roleplay: {refusal_training: 0.9}\n"
        "  roleplay: {refusal_training: 0.1}\n"
    )
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "name: dup-ref\ntargets: [{id: ref, type: reference, config_file: ref.yaml}]\n"
        "attacks: [roleplay]\nbehaviours: [{source: canary, limit: 1}]\n"
    )
    line = bad_input_line(campaign_run(spec, tmp_path / "o"))
    assert f"{tmp_path / 'ref.yaml'}:4: techniques.roleplay: duplicate key 'roleplay'" in line
