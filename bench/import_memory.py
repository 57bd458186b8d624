"""Peak memory of `jbgrade evidence import` on a large garak report (issue 11).

Writes a garak report JSONL of about ``--mb`` megabytes by repeating the attempt
records of the real garak 0.17.1 fixture (tests/interop/fixtures/garak, new uuids and
sequence numbers; canary placeholders only), then measures, each in a fresh child
process, the peak RSS and wall time of

* ours: ``import_evidence("garak", ...)`` (line by line into the campaign directory), and
* the peer: materialising the report (``[json.loads(line) for line in file]``), what a
  reader that loads the whole report before mapping it needs at the least,

and prints the ratio.  python bench/import_memory.py [--mb 200] [--skip-peer]
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
import uuid
from pathlib import Path

FIXTURE = (
    Path(__file__).resolve().parents[1] / "tests/interop/fixtures/garak/reference.report.jsonl"
)


def write_report(path: Path, megabytes: float) -> int:
    """A garak report of about ``megabytes`` MB; returns the number of attempt records."""
    lines = FIXTURE.read_text("utf-8").splitlines()
    head = [ln for ln in lines if json.loads(ln)["entry_type"] in ("start_run setup", "init")]
    attempts = [json.loads(ln) for ln in lines if json.loads(ln)["entry_type"] == "attempt"]
    target = int(megabytes * 1_000_000)
    n = 0
    with path.open("w", encoding="utf-8") as fh:
        for ln in head:
            fh.write(ln + "\n")
        size = 0
        while size < target:
            for a in attempts:
                rec = dict(a, uuid=str(uuid.UUID(int=n + 1)), seq=n)
                text = json.dumps(rec) + "\n"
                fh.write(text)
                size += len(text)
                n += 1
    return n


_OURS = """
import sys
from pathlib import Path
from jbgrade.interop import import_evidence
r = import_evidence("garak", Path(sys.argv[1]), Path(sys.argv[2]))
print(r.attempts)
"""
_PEER = """
import json, sys
with open(sys.argv[1], encoding="utf-8") as fh:
    records = [json.loads(line) for line in fh]
print(sum(1 for r in records if r.get("entry_type") == "attempt"))
"""


def measure(code: str, *args: str) -> tuple[float, float, str]:
    """Peak RSS (MB) and wall time (s) of ``code`` in a fresh interpreter."""
    t = time.perf_counter()
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            code + "\nimport resource; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)",
            *args,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return int(out[-1]) / 1024, time.perf_counter() - t, out[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--mb", type=float, default=200.0)
    ap.add_argument("--skip-peer", action="store_true")
    a = ap.parse_args()
    assert resource  # the child processes report their own peak RSS
    print(f"{platform.machine()} {platform.python_version()} {time.strftime('%Y-%m-%d')}")
    with tempfile.TemporaryDirectory() as tmp:
        rep = Path(tmp) / "big.report.jsonl"
        n = write_report(rep, a.mb)
        mb = rep.stat().st_size / 1e6
        print(f"garak report: {mb:.0f} MB, {n} attempt records")
        small = Path(tmp) / "small.report.jsonl"
        write_report(small, 0.05)
        base, _, _ = measure(_OURS, str(small), str(Path(tmp) / "c0"))
        rss, secs, got = measure(_OURS, str(rep), str(Path(tmp) / "c1"))
        print(f"ours:  peak RSS {rss:.1f} MB ({rss - base:+.1f} MB over a 50 kB import), "
              f"{secs:.1f} s, {got} attempts")  # fmt: skip
        if not a.skip_peer:
            prss, psecs, pgot = measure(_PEER, str(rep))
            print(f"peer (materialise): peak RSS {prss:.1f} MB, {psecs:.1f} s, {pgot} attempts")
            print(f"RSS ratio peer/ours: {prss / rss:.1f}x")


if __name__ == "__main__":
    main()
