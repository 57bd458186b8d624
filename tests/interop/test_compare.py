"""jbgrade compare: two campaigns of the reference target with different weaknesses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from jbgrade.interop import compare_campaigns, mcnemar_exact

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "examples/campaigns/reference-target.yaml"


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jbgrade", *args],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin", "COLUMNS": "200"},
        check=False,
    )


def _campaign(tmp: Path, name: str, config: str) -> Path:
    (tmp / f"{name}.yaml").write_text(config, encoding="utf-8")
    (tmp / f"spec-{name}.yaml").write_text(
        f"name: cmp-{name}\nseed: 7\nsamples: 2\n"
        f"targets:\n  - {{id: reference, type: reference, config_file: {name}.yaml}}\n"
        "attacks: [roleplay]\nbehaviours: [canary]\njudges: [{type: refusal}]\n",
        encoding="utf-8",
    )
    out = tmp / f"c-{name}"
    r = _cli("campaign", "run", str(tmp / f"spec-{name}.yaml"), "--out", str(out), "-q")
    assert r.returncode == 0, r.stderr
    return out


@pytest.fixture(scope="module")
def campaigns(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("cmp")
    base = CONFIG.read_text("utf-8")
    weaker = base.replace(
        "  C: {refusal_training: 0.5, input_classifier: 0.8}",
        "  C: {refusal_training: 9.0, input_classifier: 1.5, output_classifier: 1.6, "
        "system_prompt: 1.9}",
    )
    assert weaker != base
    return _campaign(tmp, "old", base), _campaign(tmp, "new", weaker)


def test_mcnemar_exact_values() -> None:
    assert mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(3, 3) == 1.0
    assert mcnemar_exact(0, 6) == pytest.approx(2 / 64)
    assert mcnemar_exact(1, 9) == pytest.approx(2 * 11 / 1024)


def test_weaker_c_domain_is_a_regression_in_c(campaigns: tuple[Path, Path]) -> None:
    old, new = campaigns
    c = compare_campaigns(old, new)
    assert c.verdict == "regressed"
    assert c.responsible_domains == ["C"]
    same = compare_campaigns(old, old)
    assert same.verdict == "no detectable change"
    back = compare_campaigns(new, old)
    assert back.verdict == "improved" and back.responsible_domains == ["C"]


def test_cli_compare_json_and_gate(campaigns: tuple[Path, Path]) -> None:
    old, new = campaigns
    r = _cli("compare", str(old), str(new), "--json", "--fail-on", "regression")
    assert r.returncode == 1
    assert json.loads(r.stdout)["verdict"] == "regressed"
    assert "regression" in r.stderr
    r = _cli("compare", str(old), str(old), "--fail-on", "regression")
    assert r.returncode == 0 and "no detectable change" in r.stdout
    r = _cli("compare", str(old), str(new), "--fail-on", "severity>=High")
    assert r.returncode == 2


def test_power_matches_simulation_and_grows_with_pairs() -> None:
    import random

    from jbgrade.interop._compare import detectable_effect, mcnemar_power

    rng = random.Random(11)
    n, psi, d, a = 60, 0.3, 0.15, 0.05
    p_worse = (psi + d) / (2 * psi)
    hits = 0
    trials = 4000
    for _ in range(trials):
        worse = better = 0
        for _ in range(n):
            if rng.random() < psi:
                if rng.random() < p_worse:
                    worse += 1
                else:
                    better += 1
        hits += worse > better and mcnemar_exact(better, worse) <= a
    assert abs(hits / trials - mcnemar_power(n, psi, d, a)) < 0.03
    assert mcnemar_power(240, 0.1, 0.1, 0.0125) > mcnemar_power(60, 0.1, 0.1, 0.0125)
    assert mcnemar_power(5, 0.0, 0.1, 0.05) < 0.05  # five pairs cannot show a 0.10 change
    small, big = detectable_effect(60, 0.1, 0.0125), detectable_effect(600, 0.1, 0.0125)
    assert small is not None and big is not None and big < small


def test_compare_reports_power_and_writes_html(
    campaigns: tuple[Path, Path], tmp_path: Path
) -> None:
    old, new = campaigns
    c = compare_campaigns(old, new)
    cdom = next(d for d in c.domains if d.domain == "C")
    assert 0.0 <= cdom.power <= 1.0 and cdom.discordance > 0
    flat = compare_campaigns(old, old)
    assert all(d.discordance == 0.0 for d in flat.domains)
    page = tmp_path / "cmp.html"
    r = _cli("compare", str(old), str(old), "--html", str(page), "--effect", "0.2")
    assert r.returncode == 0, r.stderr
    assert "power" in r.stdout and "0.20 change" in r.stdout
    html = page.read_text("utf-8")
    assert "no detectable change" in html and "power for 0.20" in html
    assert "<script" not in html and "http" not in html.split("</style>", 1)[1]
    r = _cli("compare", str(old), str(new), "--html", str(page))
    assert r.returncode == 0 and "regressed" in page.read_text("utf-8")
    r = _cli("compare", str(old), str(new), "--effect", "0")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
