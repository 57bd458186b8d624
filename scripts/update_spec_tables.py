#!/usr/bin/env python3
"""Rewrite the generated normative-tables section of docs/spec/jbg-1.0.md.

The section between the BEGIN/END markers is the output of
``jbgrade rubric show --format markdown`` for the shipped tables; everything
else in the spec is hand-written. ``--check`` exits 1 when the spec is stale
(``tests/rubric/test_spec.py`` does the same check in the test suite).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from jbgrade.rubric import default_tables, tables_markdown

SPEC = Path(__file__).resolve().parent.parent / "docs" / "spec" / "jbg-1.0.md"
BEGIN = "<!-- BEGIN GENERATED TABLES: scripts/update_spec_tables.py -->"
END = "<!-- END GENERATED TABLES -->"


def split(text: str) -> tuple[str, str, str]:
    """(before, generated, after); raises ValueError when the markers are missing."""
    if text.count(BEGIN) != 1 or text.count(END) != 1:
        raise ValueError(f"the spec must contain exactly one {BEGIN!r} and one {END!r}")
    head, rest = text.split(BEGIN)
    body, tail = rest.split(END)
    return head, body, tail


def render(text: str) -> str:
    """The spec text with the generated section replaced by the current tables."""
    head, _, tail = split(text)
    return f"{head}{BEGIN}\n{tables_markdown(default_tables())}{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if the spec is out of date")
    ap.add_argument("--spec", type=Path, default=SPEC)
    args = ap.parse_args(argv)
    text = args.spec.read_text(encoding="utf-8")
    try:
        new = render(text)
    except ValueError as exc:
        print(f"{args.spec}: {exc}", file=sys.stderr)
        return 2
    if args.check:
        if new != text:
            print(f"{args.spec}: tables section is stale; run {sys.argv[0]}", file=sys.stderr)
            return 1
        print(f"{args.spec}: tables section up to date")
        return 0
    if new != text:
        args.spec.write_text(new, encoding="utf-8")
        print(f"rewrote the tables section of {args.spec}")
    else:
        print(f"{args.spec}: already up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
