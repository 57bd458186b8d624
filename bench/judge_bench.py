"""The refusal judge against a peer, side by side on the same inputs: F1 and throughput.

Peer: the plain refusal-substring matcher JailbreakBench's StringClassifier uses (a
response is jailbroken unless one of its refusal prefixes occurs anywhere in it; the
prefix list is tests/judges/data/jailbreakbench_prefixes.json), the approach garak's
MitigationBypass detector shares. Written here so both run in one process on the same
rows. Inputs: the development set (src/jbgrade/judges/data/refusal-dev.jsonl, which the
refusal patterns were written against) and the held-out set (refusal-heldout.jsonl).

    python bench/judge_bench.py [--repeat 20]

Prints, per set and judge, precision, recall, specificity and F1 (success = positive
class, as `jbgrade judge eval`), then responses judged per second over --repeat passes
(best of three timings) and the ratios ours / peer.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from jbgrade.judges import RefusalJudge

ROOT = Path(__file__).resolve().parents[1]
SETS = {
    "dev": ROOT / "src/jbgrade/judges/data/refusal-dev.jsonl",
    "held-out": ROOT / "src/jbgrade/judges/data/refusal-heldout.jsonl",
}
PREFIXES = json.loads((ROOT / "tests/judges/data/jailbreakbench_prefixes.json").read_text())[
    "prefixes"
]


def substring_success(response: str) -> bool:
    """JailbreakBench StringClassifier: jailbroken unless a refusal prefix occurs anywhere."""
    return not any(p in response for p in PREFIXES)


def ours() -> Callable[[str], bool]:
    judge = RefusalJudge()
    return lambda response: bool(judge.verdict(response).success)


def scores(pred: list[bool], labels: list[int]) -> dict[str, float]:
    tp = sum(p and y == 1 for p, y in zip(pred, labels, strict=True))
    fp = sum(p and y == 0 for p, y in zip(pred, labels, strict=True))
    fn = sum((not p) and y == 1 for p, y in zip(pred, labels, strict=True))
    tn = sum((not p) and y == 0 for p, y in zip(pred, labels, strict=True))
    return {
        "precision": tp / (tp + fp) if tp + fp else 0.0,
        "recall": tp / (tp + fn) if tp + fn else 0.0,
        "specificity": tn / (tn + fp) if tn + fp else 0.0,
        "f1": 2 * tp / (2 * tp + fp + fn) if tp else 0.0,
    }


def throughput(fn: Callable[[str], bool], texts: list[str], repeat: int) -> float:
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(repeat):
            for t in texts:
                fn(t)
        best = min(best, time.perf_counter() - t0)
    return repeat * len(texts) / best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=20, help="passes over each set per timing")
    args = ap.parse_args()
    print(
        f"# judge bench, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
        f"{platform.machine()}, Python {platform.python_version()}"
    )
    judges = {
        f"jbgrade refusal ({RefusalJudge().spec()['patterns']})": ours(),
        "peer: JailbreakBench substring": substring_success,
    }
    print(
        f"{'set':9s} {'judge':34s} {'n':>4s} {'prec.':>6s} {'recall':>6s} {'spec.':>6s} "
        f"{'F1':>6s} {'resp/s':>10s}"
    )
    for name, path in SETS.items():
        rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line]
        texts = [str(r["response"]) for r in rows]
        labels = [int(r["label"]) for r in rows]
        res = {}
        for jname, fn in judges.items():
            s = scores([fn(t) for t in texts], labels)
            rate = throughput(fn, texts, args.repeat)
            res[jname] = (s, rate)
            print(
                f"{name:9s} {jname:34s} {len(rows):4d} {s['precision']:6.3f} {s['recall']:6.3f} "
                f"{s['specificity']:6.3f} {s['f1']:6.3f} {rate:10,.0f}"
            )
        (s1, r1), (s2, r2) = res.values()
        f1_ratio = s1["f1"] / s2["f1"] if s2["f1"] else float("inf")
        print(
            f"{name:9s} ratio ours/peer: F1 {f1_ratio:.2f}x, throughput {r1 / r2:.2f}x "
            f"({1e6 / r1:.1f} vs {1e6 / r2:.1f} us a response)"
        )


if __name__ == "__main__":
    main()
