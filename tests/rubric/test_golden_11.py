"""The JBG 1.1 golden files: regenerated exactly, and checked against the spec-literal grader.

The full file has 2,519,424 rows: it is compared whole with the regenerated content
(and its SHA-256 with the README), and a fixed sample of its rows (every 997th, plus
every row of the X sample) is checked against the independent implementation of the
scoring procedure in ``test_golden.py``, fed with the 1.1 tables.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import lzma
import re
from functools import cache

from tests.rubric.test_golden import GOLDEN, ROOT, SpecGrader, _load_script, _rows, check_row

TABLES_11 = ROOT / "src" / "jbgrade" / "rubric" / "data" / "jbg-1.1.json"


@cache
def _full() -> str:
    return lzma.decompress((GOLDEN / "jbg-1.1.csv.xz").read_bytes()).decode("utf-8")


@cache
def _xs() -> str:
    return gzip.decompress((GOLDEN / "jbg-1.1-x-sample.csv.gz").read_bytes()).decode("utf-8")


def test_golden_11_is_exactly_what_the_script_generates() -> None:
    gen = _load_script()
    full, xs = gen.full_csv_11(), gen.x_sample_csv_11()
    assert hashlib.sha256(_full().encode()).digest() == hashlib.sha256(full.encode()).digest(), (
        "run `make golden`"
    )
    assert _xs() == xs, "run `make golden`"
    readme = (GOLDEN / "README.md").read_text(encoding="utf-8")
    assert readme == gen.readme(gen.full_csv(), gen.x_sample_csv(), full, xs)
    for name, content in ((gen.FULL_11, full), (gen.XSAMPLE_11, xs)):
        digest = hashlib.sha256(content.encode("utf-8")).hexdigest()
        rows = content.count("\n") - 1
        assert re.search(rf"\| `{re.escape(name)}` \| {rows} \| `{digest}` \|", readme)


def test_golden_11_rows_match_the_spec_literal_grader() -> None:
    ref = SpecGrader(json.loads(TABLES_11.read_text(encoding="utf-8")))
    header, _ = _rows(_xs()[:200])
    lines = _full().splitlines()
    assert lines[0].split(",") == header[:7]
    assert len(lines) - 1 == 108 * 144 * 162
    sample = [lines[i].split(",") for i in range(1, len(lines), 997)]
    sample.append(lines[-1].split(","))
    _, xrows = _rows(_xs())
    assert len(xrows) == 10_000
    for hdr, rows in ((header[:7], sample), (header, xrows)):
        for row in rows:
            check_row(ref, dict(zip(hdr, row, strict=True)))
    # The first and last rows are the all-lowest and all-worst vectors.
    assert lines[1].startswith("JBG:1.1/LY:M/UN:N/RL:L/TR:S/HD:G/UP:N/CG:N/AG:T/AC:H/AU:N/")
    assert lines[-1].split(",")[1:3] == ["10.0", "Critical"]
