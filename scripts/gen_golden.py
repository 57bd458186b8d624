#!/usr/bin/env python3
"""Write the JBG 1.0 and 1.1 golden files (``make golden``).

docs/spec/golden/jbg-1.0.csv.gz
    every one of the concrete combinations (no X), in canonical enumeration order;
docs/spec/golden/jbg-1.0-x-sample.csv.gz
    a seeded sample of distinct vectors that contain at least one X;
docs/spec/golden/jbg-1.1.csv.xz, jbg-1.1-x-sample.csv.gz
    the same for JBG 1.1 (2,519,424 concrete rows, xz-compressed to stay small);
docs/spec/golden/README.md
    origin, columns, row counts and the SHA-256 of each file's uncompressed content.

The output is deterministic: gzip header with mtime 0 and no file name, fixed
compression level, rows in a fixed order, ``\\n`` line ends. Run with
``--check`` to verify the committed files instead of writing them.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import lzma
import random
import sys
from itertools import product
from pathlib import Path

from jbgrade.rubric import NOT_ASSESSED, Grade, Tables, default_grader, grade_many, grader_for

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "spec" / "golden"
FULL = "jbg-1.0.csv.gz"
XSAMPLE = "jbg-1.0-x-sample.csv.gz"
X_SEED = 20261127
X_COUNT = 10_000
X_RATE = 0.25  # chance that each metric is X, before forcing at least one
FULL_11 = "jbg-1.1.csv.xz"
XSAMPLE_11 = "jbg-1.1-x-sample.csv.gz"

FULL_COLUMNS = ("vector", "score", "severity", "BP", "EC", "RI", "systemic")
X_COLUMNS = (*FULL_COLUMNS, "provisional", "scored_as")


def _vec(t: Tables, letters: tuple[str, ...] | list[str]) -> str:
    return t.prefix + "/".join(f"{m.key}:{v}" for m, v in zip(t.metrics, letters, strict=True))


def all_concrete_vectors(t: Tables) -> list[str]:
    """Every concrete vector: product of each metric's letters, lowest first, LY slowest."""
    return [_vec(t, letters) for letters in product(*[m.letters for m in t.metrics])]


def x_sample_vectors(t: Tables, *, seed: int = X_SEED, count: int = X_COUNT) -> list[str]:
    """``count`` distinct vectors with at least one X, drawn with ``random.Random(seed)``.

    Only ``random()`` and ``randrange()`` are used: both are stable across
    Python versions, so the sample is reproducible.
    """
    rng = random.Random(seed)
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < count:
        letters = [
            NOT_ASSESSED if rng.random() < X_RATE else m.letters[rng.randrange(len(m.letters))]
            for m in t.metrics
        ]
        if NOT_ASSESSED not in letters:
            letters[rng.randrange(len(letters))] = NOT_ASSESSED
        s = _vec(t, letters)
        if s not in seen:
            seen.add(s)
            out.append(s)
    return out


def _row(g: Grade, *, with_x: bool) -> str:
    levels = g.criteria
    cells = [
        g.vector,
        f"{g.score:.1f}",
        g.severity,
        str(levels["BP"]["level"]),
        str(levels["EC"]["level"]),
        str(levels["RI"]["level"]),
        "true" if g.systemic else "false",
    ]
    if with_x:
        resolved = g.parsed.resolved()
        cells += [
            "true" if g.provisional else "false",
            _vec(g.parsed.tables, list(resolved.values())),
        ]
    return ",".join(cells)


def full_csv() -> str:
    """The content of the full golden file (uncompressed)."""
    t = default_grader().tables
    grades = grade_many(all_concrete_vectors(t))
    return ",".join(FULL_COLUMNS) + "\n" + "".join(_row(g, with_x=False) + "\n" for g in grades)


def x_sample_csv() -> str:
    """The content of the X sample (uncompressed)."""
    t = default_grader().tables
    grades = grade_many(x_sample_vectors(t))
    return ",".join(X_COLUMNS) + "\n" + "".join(_row(g, with_x=True) + "\n" for g in grades)


def full_csv_11() -> str:
    """The content of the full JBG 1.1 golden file (uncompressed, about 238 MB).

    Rows are built per criterion part (the canonical order is BP part, then EC
    part, then RI part, each in product order), and graded by the shipped grader.
    """
    gr = grader_for("1.1")
    t = gr.tables
    parts = [
        [
            gr._parts[c]["/".join(f"{m.key}:{x}" for m, x in zip(ms, combo, strict=True))]
            for combo in product(*[m.letters for m in ms])
        ]
        for c, ms in ((c, [m for m in t.metrics if m.criterion == c]) for c in ("BP", "EC", "RI"))
    ]
    n = len(t.levels)
    cells = [
        f"{t.score[e][b][r]:.1f},{t.severity_of(t.score[e][b][r])}"
        for e in range(n)
        for b in range(n)
        for r in range(n)
    ]
    out = [",".join(FULL_COLUMNS) + "\n"]
    for bp in parts[0]:
        head = t.prefix + bp.key + "/"
        for ec in parts[1]:
            mid = head + ec.key + "/"
            base = (ec.level * n + bp.level) * n
            sys_be = bp.sys_mask & ec.sys_mask
            lv = f"{bp.level},{ec.level},"
            out.extend(
                f"{mid}{ri.key},{cells[base + ri.level]},{lv}{ri.level},"
                f"{'true' if sys_be & ri.sys_mask else 'false'}\n"
                for ri in parts[2]
            )
    return "".join(out)


def x_sample_csv_11() -> str:
    """The content of the JBG 1.1 X sample (uncompressed)."""
    gr = grader_for("1.1")
    grades = [gr.grade(v) for v in x_sample_vectors(gr.tables)]
    return ",".join(X_COLUMNS) + "\n" + "".join(_row(g, with_x=True) + "\n" for g in grades)


def xz_bytes(text: str) -> bytes:
    """Deterministic xz (no timestamps in the format), preset 9."""
    return lzma.compress(text.encode("utf-8"), format=lzma.FORMAT_XZ, preset=9)


def gzip_bytes(text: str) -> bytes:
    """Deterministic gzip: no file name, mtime 0, level 9."""
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as f:
        f.write(text.encode("utf-8"))
    return buf.getvalue()


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def readme_11(full: str, xs: str) -> str:
    """The JBG 1.1 section of the README."""
    t = grader_for("1.1").tables
    n_full = full.count("\n") - 1
    n_x = xs.count("\n") - 1
    return f"""
# JBG {t.version} golden files

From `src/jbgrade/rubric/data/jbg-1.1.json` ({t.standard} {t.version}, table revision
{t.table_revision}), by the same script; `tests/rubric/test_golden_11.py` checks that the
committed files equal the regenerated content and checks a fixed sample of rows against an
independent implementation of `docs/spec/jbg-1.1.md`, section 6.

| File | Rows | SHA-256 of the uncompressed content |
|---|---|---|
| `{FULL_11}` | {n_full} | `{sha256(full)}` |
| `{XSAMPLE_11}` | {n_x} | `{sha256(xs)}` |

Same CSV format and columns as the 1.0 files. The full file has 2,519,424 rows (about
238 MB uncompressed), so it is **xz**-compressed (`xz -d`, Python's `lzma`), about 1.6 MB;
the X sample is gzip-compressed like 1.0's. Row order: the Cartesian product of each
metric's values lowest first, in canonical metric order (LY slowest, ST fastest). The
X sample uses the same seed and drawing rule as 1.0's, over the 13 metrics of 1.1 (the
forced X is at index `randrange(13)`).
"""


def readme(full: str, xs: str, full_11: str | None = None, xs_11: str | None = None) -> str:
    t = default_grader().tables
    n_full = full.count("\n") - 1
    n_x = xs.count("\n") - 1
    return f"""# JBG {t.version} golden files

Generated by `scripts/gen_golden.py` (`make golden`) from the normative tables
`src/jbgrade/rubric/data/jbg-1.0.json` ({t.standard} {t.version}, table revision
{t.table_revision}). Do not edit by hand: regenerate, and the test
`tests/rubric/test_golden.py` recomputes both files and compares them, and checks
every row against an independent implementation of the scoring procedure of
`docs/spec/jbg-1.0.md`.

An implementation conforms to JBG {t.version} when it reproduces every row of
both files (see the specification, "Conformance").

| File | Rows | SHA-256 of the uncompressed content |
|---|---|---|
| `{FULL}` | {n_full} | `{sha256(full)}` |
| `{XSAMPLE}` | {n_x} | `{sha256(xs)}` |

Both are UTF-8 CSV with a header row, `,` separators, no quoting, `\\n` line
ends, gzip-compressed with mtime 0 (compare the uncompressed content: gzip
bytes can differ between zlib builds).

## `{FULL}`: every concrete combination

All {n_full} vectors without X, in enumeration order: the Cartesian product of
each metric's values lowest first, in canonical metric order, the first metric
(LY) varying slowest and the last (ST) fastest.

| Column | Meaning |
|---|---|
| `vector` | canonical vector string |
| `score` | score with one decimal (`0.0`..`10.0`) |
| `severity` | `None`, `Low`, `Medium`, `High` or `Critical` |
| `BP`, `EC`, `RI` | criterion levels 0..4 |
| `systemic` | `true` or `false` |

## `{XSAMPLE}`: vectors with X

{n_x} distinct vectors, each with at least one X, drawn with Python's
`random.Random({X_SEED})`: for each metric in canonical order, X when
`random() < {X_RATE}`, else the value at index `randrange(number of values)`; if
no metric came out X, the metric at index `randrange(11)` is set to X;
duplicates are skipped. Columns as above, plus:

| Column | Meaning |
|---|---|
| `provisional` | always `true` (the vector contains X) |
| `scored_as` | the vector with each X replaced by its metric's worst value (same grade) |
""" + (readme_11(full_11, xs_11) if full_11 is not None and xs_11 is not None else "")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="verify the committed files")
    ap.add_argument("--out", type=Path, default=OUT, help="output directory")
    args = ap.parse_args(argv)
    full, xs = full_csv(), x_sample_csv()
    full_11, xs_11 = full_csv_11(), x_sample_csv_11()
    files = {
        FULL: gzip_bytes(full),
        XSAMPLE: gzip_bytes(xs),
        FULL_11: b"" if args.check else xz_bytes(full_11),
        XSAMPLE_11: gzip_bytes(xs_11),
        "README.md": readme(full, xs, full_11, xs_11).encode(),
    }
    if args.check:
        bad = []
        for name, data in files.items():
            path = args.out / name
            have = path.read_bytes() if path.exists() else b""
            want = data
            if name.endswith(".gz"):
                have = gzip.decompress(have) if have else b""
                want = gzip.decompress(data)
            elif name.endswith(".xz"):
                have = lzma.decompress(have) if have else b""
                want = full_11.encode("utf-8")
            if have != want:
                bad.append(name)
        if bad:
            print(
                f"golden files out of date: {', '.join(bad)} (run `make golden`)", file=sys.stderr
            )
            return 1
        print(f"golden files up to date in {args.out}")
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (args.out / name).write_bytes(data)
        print(f"wrote {args.out / name} ({len(data)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
