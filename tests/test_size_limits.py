"""Size limits (issue 13): no module over 500 lines, no function over 80, without a reason.

Every module under ``src/jbgrade`` is measured in lines, every function (nested ones
and methods included) from its ``def`` line (decorators excluded) to its last line,
as ``ast`` reports them. An item over its limit must be in one of the allow-lists
below with the reason it stays; an allow-listed item that is back under its limit
must leave the list (so the lists only shrink).
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 80

#: Modules allowed over MAX_MODULE_LINES: path under src/ -> reason.
MODULE_ALLOW: dict[str, str] = {}

#: Functions allowed over MAX_FUNCTION_LINES: "path under src/:function name" -> reason.
FUNCTION_ALLOW: dict[str, str] = {
    "jbgrade/registry/migrations/versions/v0001_initial.py:upgrade": (
        "a migration is frozen history: it records the schema as it was created, and "
        "editing an applied migration would change what it did"
    ),
}


def _modules() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def _rel(path: Path) -> str:
    return path.relative_to(SRC).as_posix()


def module_lines(path: Path) -> int:
    """Lines of a module, as ``wc -l`` counts them for a file ending in a newline."""
    return len(path.read_text(encoding="utf-8").splitlines())


def function_sizes(source: str) -> list[tuple[str, int]]:
    """(name, lines) of every function and method in ``source``, nested ones included."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            assert node.end_lineno is not None
            out.append((node.name, node.end_lineno - node.lineno + 1))
    return out


def _oversized_modules() -> dict[str, int]:
    return {_rel(p): n for p in _modules() if (n := module_lines(p)) > MAX_MODULE_LINES}


def _oversized_functions() -> dict[str, int]:
    out: dict[str, int] = {}
    for p in _modules():
        for name, n in function_sizes(p.read_text(encoding="utf-8")):
            if n > MAX_FUNCTION_LINES:
                key = f"{_rel(p)}:{name}"
                out[key] = max(n, out.get(key, 0))
    return out


def test_the_measure_sees_a_long_function() -> None:
    body = "\n".join(f"        x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    src = f"def short():\n    pass\n\n\nclass C:\n    def long(self):\n{body}\n"
    sizes = dict(function_sizes(src))
    assert sizes == {"short": 2, "long": MAX_FUNCTION_LINES + 1}


def test_src_is_found() -> None:
    assert len(_modules()) > 100


def test_no_module_over_the_limit_without_a_reason() -> None:
    over = {m: n for m, n in _oversized_modules().items() if m not in MODULE_ALLOW}
    assert not over, (
        f"modules over {MAX_MODULE_LINES} lines (split them, or add them to MODULE_ALLOW "
        f"with the reason they stay): {over}"
    )


def test_no_function_over_the_limit_without_a_reason() -> None:
    over = {f: n for f, n in _oversized_functions().items() if f not in FUNCTION_ALLOW}
    assert not over, (
        f"functions over {MAX_FUNCTION_LINES} lines (split them, or add them to "
        f"FUNCTION_ALLOW with the reason they stay): {over}"
    )


def test_module_allow_list_only_shrinks() -> None:
    stale = sorted(set(MODULE_ALLOW) - set(_oversized_modules()))
    assert not stale, f"back under {MAX_MODULE_LINES} lines: remove from MODULE_ALLOW: {stale}"
    assert all(reason.strip() for reason in MODULE_ALLOW.values())


def test_function_allow_list_only_shrinks() -> None:
    stale = sorted(set(FUNCTION_ALLOW) - set(_oversized_functions()))
    assert not stale, f"back under {MAX_FUNCTION_LINES} lines: remove from FUNCTION_ALLOW: {stale}"
    assert all(reason.strip() for reason in FUNCTION_ALLOW.values())
