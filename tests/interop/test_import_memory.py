"""A large garak report imports in bounded memory (streams line by line).

The report is the real garak 0.17.1 fixture's attempt records repeated to about
40 MB (new uuids); the peak RSS of a fresh process importing it must stay within a
fixed margin of the same process importing a 50 kB report. Materialising the
report would need well over its own size (bench/import_memory.py measures both).
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

FIX = Path(__file__).parent / "fixtures/garak/reference.report.jsonl"
ROOT = Path(__file__).resolve().parents[2]

_CHILD = """
import resource, sys
from pathlib import Path
from jbgrade.interop import import_evidence
r = import_evidence("garak", Path(sys.argv[1]), Path(sys.argv[2]))
print(r.attempts, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def _report(path: Path, megabytes: float) -> None:
    lines = FIX.read_text("utf-8").splitlines()
    recs = [json.loads(ln) for ln in lines]
    head = [ln for ln, r in zip(lines, recs, strict=True) if r["entry_type"] == "init"]
    attempts = [r for r in recs if r["entry_type"] == "attempt"]
    n = size = 0
    with path.open("w", encoding="utf-8") as fh:
        fh.write("\n".join(head) + "\n")
        while size < megabytes * 1e6:
            for a in attempts:
                text = json.dumps(dict(a, uuid=str(uuid.UUID(int=n + 1)), seq=n)) + "\n"
                fh.write(text)
                size += len(text)
                n += 1


def _peak(report: Path, out: Path) -> tuple[int, float]:
    r = subprocess.run(
        [sys.executable, "-c", _CHILD, str(report), str(out)],
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"},
    )
    assert r.returncode == 0, r.stderr
    attempts, kb = r.stdout.split()
    return int(attempts), int(kb) / 1024


def test_large_garak_import_streams_in_bounded_rss(tmp_path: Path) -> None:
    small, big = tmp_path / "small.jsonl", tmp_path / "big.jsonl"
    _report(small, 0.05)
    _report(big, 40)
    n_small, rss_small = _peak(small, tmp_path / "c-small")
    n_big, rss_big = _peak(big, tmp_path / "c-big")
    assert n_big > 50 * n_small  # really a much larger import
    # 40 MB of records: materialised they would take > 100 MB; streamed, a small margin
    assert rss_big - rss_small < 25, (rss_small, rss_big)
