"""Small helpers shared by the CLI command modules."""

from __future__ import annotations

import json
import sys
from typing import Any

import typer
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

__all__ = [
    "FAIL_ON_HELP",
    "err_console",
    "fail",
    "gate",
    "one_line",
    "out_console",
    "print_json",
    "warn",
    "warn_skipped",
]


class _Console(Console):
    """A console whose tables fold long words instead of cutting them with an ellipsis:
    at 80 columns an id or a rule name must still be readable in full."""

    def print(self, *objects: Any, **kwargs: Any) -> None:
        for o in objects:
            if isinstance(o, Table):
                for col in o.columns:
                    col.overflow = "fold"
                # A title wraps at the table's width: make the table as wide as its
                # title (up to the terminal's), so a short table keeps a one-line title.
                if isinstance(o.title, str):
                    want = min(cell_len(Text.from_markup(o.title).plain), self.width)
                    o.min_width = max(o.min_width or 0, want)
        super().print(*objects, **kwargs)


# Text wraps at the terminal width (80 columns when piped and COLUMNS is unset): no
# line of text output is wider than the terminal (tests/cli/test_80_columns.py).
out_console = _Console(highlight=False, soft_wrap=False)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def one_line(text: str) -> str:
    """Collapse whitespace so an error is exactly one line."""
    return " ".join(str(text).split())


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``jbgrade: error: MESSAGE`` on stderr; return the Exit to raise."""
    print(f"jbgrade: error: {one_line(message)}", file=sys.stderr)
    return typer.Exit(code)


def print_json(obj: Any, *, indent: int | None = 2) -> None:
    """Write JSON to stdout (plain, no markup) followed by a newline."""
    sys.stdout.write(json.dumps(obj, indent=indent, ensure_ascii=False) + "\n")


FAIL_ON_HELP = (
    "CI gate: exit 1 when any comma-separated condition holds, e.g. severity>=High, "
    "action>=mitigate, systemic, score>=7, rate>=0.2, regression (2 on a bad expression)."
)


def gate(expr: Any, facts: dict[str, Any]) -> None:
    """Apply a parsed ``--fail-on`` expression: one line on stderr and exit 1 when it fires."""
    if expr is None:
        return
    why = expr.check(facts)
    if why is not None:
        print(f"jbgrade: {why}", file=sys.stderr)
        raise typer.Exit(1)


def warn(message: str) -> None:
    """Print ``jbgrade: warning: MESSAGE`` (one line) on stderr."""
    print(f"jbgrade: warning: {one_line(message)}", file=sys.stderr)


def warn_skipped(skipped: Any, suffix: str = "their attempts count in no figure") -> None:
    """Warn once about corrupt attempt lines a reader skipped (``SkippedLine`` list)."""
    if skipped:
        from jbgrade.evidence import describe_skipped

        warn(f"{describe_skipped(skipped)}: {suffix}")
