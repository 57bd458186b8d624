"""Peak memory and time of `campaign evidence` on large campaigns (issue 9, part 5).

Writes a synthetic campaign directory of N attempts (5 targets, 48 behaviours, one
attack plus the baseline arm, canary placeholders only), then measures, each in a fresh
child process, the peak RSS and wall time of

* ours: ``load_campaign_evidence`` (one streaming pass, per-cell counters), and
* the peer: the materialising path (``compute_evidence(read_campaign_attempts(dir))``,
  every record in memory, as before issue 9),

and prints the ratio.  python bench/evidence_memory.py [--attempts 100000 1000000] [--skip-peer]
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from jbgrade.records import attempt_key

TARGETS = 5
BEHAVIOURS = 48


def write_campaign(d: Path, n: int) -> None:
    d.mkdir(parents=True, exist_ok=True)
    manifest = {
        "format_version": 1,
        "campaign": "bench",
        "targets": [
            {"id": f"t{t}", "model": f"m{t}", "vendor": f"v{t % 2}", "layers": []}
            for t in range(TARGETS)
        ],
        "attacks": [{"id": "jb", "kind": "template"}, {"id": "baseline", "kind": "baseline"}],
    }
    (d / "manifest.json").write_text(json.dumps(manifest))
    per = TARGETS * BEHAVIOURS * 2
    with (d / "attempts.jsonl").open("w") as fh:
        for i in range(n):
            cell, sample = i % per, i // per
            t, rest = divmod(cell, BEHAVIOURS * 2)
            b, arm = divmod(rest, 2)
            attack = "jb" if arm == 0 else "baseline"
            dom = "GSWC"[b % 4]
            ok = (i * 2654435761) % 100 < (30 if arm == 0 else 3)
            rec = {
                "format_version": 1,
                "key": attempt_key(attack, f"b{b}", f"t{t}", sample, 0),
                "campaign": "bench",
                "arm": "attack" if arm == 0 else "baseline",
                "attack": attack,
                "behaviour_id": f"b{b}",
                "domain": dom,
                "category": "canary",
                "target": f"t{t}",
                "model": f"m{t}",
                "vendor": f"v{t % 2}",
                "sample": sample,
                "seed": 0,
                "messages": [{"role": "user", "content": f"[canary behaviour b{b}]"}],
                "response": "Sure. [placeholder]" if ok else "I can't help with that.",
                "status": "ok",
                "verdicts": [
                    {
                        "format_version": 1,
                        "judge": "refusal",
                        "spec": {"type": "refusal"},
                        "success": ok,
                        "value": 1.0 if ok else 0.0,
                        "explanation": "bench",
                    }
                ],
                "success": ok,
            }
            fh.write(json.dumps(rec, separators=(",", ":")) + "\n")


_CHILD = """
import sys, time, resource
from jbgrade.evidence import compute_evidence, load_campaign_evidence, read_campaign_attempts
from jbgrade.evidence._campaign import _attack_infos, _manifest, _target_infos
from pathlib import Path
d = Path(sys.argv[2]); t0 = time.perf_counter()
if sys.argv[1] == "ours":
    ev = load_campaign_evidence(d)
else:
    data = _manifest(d)
    ev = compute_evidence(read_campaign_attempts(d), _target_infos(data, ""), _attack_infos(data))
dt = time.perf_counter() - t0
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"{rss:.1f} {dt:.2f} {ev.counts.total} {ev.letters('jb').get('RL')}")
"""


def measure(which: str, d: Path) -> tuple[float, float, int]:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, which, str(d)], capture_output=True, text=True, check=True
    ).stdout.split()
    return float(out[0]), float(out[1]), int(out[2])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--attempts", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--skip-peer", action="store_true", help="Do not run the materialising path.")
    args = ap.parse_args()
    print(
        f"# {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, {platform.machine()}, "
        f"Python {platform.python_version()}; peak RSS (MB) and time (s) of campaign evidence"
    )
    print("attempts   ours_MB  ours_s   peer_MB  peer_s   RSS ratio peer/ours")
    ok = True
    limits = {100_000: 150.0, 1_000_000: 300.0}
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.attempts:
            d = Path(tmp) / f"c{n}"
            write_campaign(d, n)
            rss, dt, total = measure("ours", d)
            assert total == n, (total, n)
            peer = (float("nan"), float("nan")) if args.skip_peer else measure("peer", d)[:2]
            limit = limits.get(n)
            good = limit is None or rss < limit
            ok &= good
            print(
                f"{n:9d} {rss:8.1f} {dt:7.1f} {peer[0]:9.1f} {peer[1]:7.1f}   "
                f"{peer[0] / rss:5.1f}x  {'PASS' if good else 'FAIL'} (< {limit} MB)"
            )
    _ = resource
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
