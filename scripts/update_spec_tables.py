#!/usr/bin/env python3
"""Rewrite the generated normative-tables sections of docs/spec/jbg-1.0.md and jbg-1.1.md.

The section between the BEGIN/END markers is the output of
``jbgrade rubric show --version V --format markdown`` for the shipped tables of
the spec's version (``--spec`` picks one file; the version is read from its name); everything
else in the spec is hand-written. ``--check`` exits 1 when the spec is stale
(``tests/rubric/test_spec.py`` does the same check in the test suite).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from jbgrade.rubric import VERSIONS, tables_for, tables_markdown

SPEC_DIR = Path(__file__).resolve().parent.parent / "docs" / "spec"
SPEC = SPEC_DIR / "jbg-1.0.md"
SPECS = {v: SPEC_DIR / f"jbg-{v}.md" for v in VERSIONS}
BEGIN = "<!-- BEGIN GENERATED TABLES: scripts/update_spec_tables.py -->"
END = "<!-- END GENERATED TABLES -->"


def split(text: str) -> tuple[str, str, str]:
    """(before, generated, after); raises ValueError when the markers are missing."""
    if text.count(BEGIN) != 1 or text.count(END) != 1:
        raise ValueError(f"the spec must contain exactly one {BEGIN!r} and one {END!r}")
    head, rest = text.split(BEGIN)
    body, tail = rest.split(END)
    return head, body, tail


def version_of(spec: Path) -> str:
    """``docs/spec/jbg-1.1.md`` -> ``"1.1"`` (1.0 for a file named otherwise)."""
    name = spec.name
    if name.startswith("jbg-") and name.endswith(".md") and name[4:-3] in VERSIONS:
        return name[4:-3]
    return "1.0"


def render(text: str, version: str = "1.0") -> str:
    """The spec text with the generated section replaced by that version's tables."""
    head, _, tail = split(text)
    return f"{head}{BEGIN}\n{tables_markdown(tables_for(version))}{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if the spec is out of date")
    ap.add_argument("--spec", type=Path, default=None, help="one spec (default: every version's)")
    args = ap.parse_args(argv)
    specs = [args.spec] if args.spec is not None else [p for p in SPECS.values() if p.exists()]
    code = 0
    for spec in specs:
        code = max(code, _one(spec, check=args.check))
    return code


def _one(spec: Path, *, check: bool) -> int:
    text = spec.read_text(encoding="utf-8")
    try:
        new = render(text, version_of(spec))
    except ValueError as exc:
        print(f"{spec}: {exc}", file=sys.stderr)
        return 2
    if check:
        if new != text:
            print(f"{spec}: tables section is stale; run {sys.argv[0]}", file=sys.stderr)
            return 1
        print(f"{spec}: tables section up to date")
        return 0
    if new != text:
        spec.write_text(new, encoding="utf-8")
        print(f"rewrote the tables section of {spec}")
    else:
        print(f"{spec}: already up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
