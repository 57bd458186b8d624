"""Shards that open one fresh ``limits.sqlite`` at the same instant all succeed.

Before the fix about one start in seven raised "database is locked": switching
the journal mode and a stale-snapshot write are not covered by SQLite's busy
timeout, so the open step is retried.
"""

from __future__ import annotations

import multiprocessing as mp
import time
from pathlib import Path

from jbgrade.harness._shared import SharedLimits


def _open(directory: str, start: float) -> str | None:
    while time.time() < start:
        pass
    try:
        limits = SharedLimits(Path(directory))
        limits.throttle(0, 10.0, None)
        limits.close()
    except Exception as exc:  # reported to the parent
        return repr(exc)
    return None


def test_many_shards_open_one_fresh_limits_file_together(tmp_path: Path) -> None:
    ctx = mp.get_context("fork")
    errors: list[str] = []
    with ctx.Pool(6) as pool:
        for i in range(15):
            d = tmp_path / str(i)
            d.mkdir()
            start = time.time() + 0.2
            errors += [e for e in pool.starmap(_open, [(str(d), start)] * 6) if e]
    assert errors == []
