"""Issue 14: the progress bar fits an 80-column terminal, every column whole."""

from __future__ import annotations

import io
import re

from rich.cells import cell_len
from rich.console import Console

from jbgrade.harness import RunSummary
from jbgrade.harness._progress import RichReporter


def test_progress_bar_fits_80_columns_with_large_counts() -> None:
    buf = io.StringIO()
    con = Console(file=buf, width=80, force_terminal=True, color_system=None)
    rep = RichReporter(con)
    s = RunSummary(campaign="reference-inprocess-3b3e6225d2b1", planned=100_224, already_done=7)
    rep.start(s)
    s.completed, s.errors, s.retries = 50_000, 12_345, 999
    rep.finish(s)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", buf.getvalue()).replace("\r", "\n")
    lines = [line for line in text.splitlines() if line.strip()]
    assert lines[0] == "reference-inprocess-3b3e6225d2b1: 100224 attempts"
    assert all(cell_len(line) <= 80 for line in lines), lines
    assert "…" not in text
    last = lines[-1]
    assert "50007/100224" in last and "err 12345" in last and "retry 999" in last
