"""YAML loading that remembers where every value came from.

Errors in a case file must name the file, the line and the field. PyYAML's
composer keeps a start mark on every node; we build the plain data and, next
to it, a map from each path (tuple of keys and indexes) to its 1-based line.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml

from jbgrade._errors import InputError

__all__ = ["LocatedDoc", "dotted", "load_located"]

Path_ = tuple[str | int, ...]
E = TypeVar("E", bound=InputError)


class _Loader(yaml.SafeLoader):
    """SafeLoader that also reads YAML 1.2 floats such as ``1e25`` (1.1 wants ``1.0e+25``)."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)


class LocatedDoc:
    """A parsed YAML document plus the line of every value and key in it."""

    def __init__(self, data: Any, lines: dict[Path_, int], path: str, text: str):
        self.data = data
        self.lines = lines
        self.path = path
        self.text = text

    def line_of(self, where: Sequence[str | int]) -> int | None:
        """The line of the deepest known prefix of ``where`` (None if unknown)."""
        p: Path_ = tuple(where)
        while p:
            if p in self.lines:
                return self.lines[p]
            p = p[:-1]
        return self.lines.get((), None)

    def error(
        self,
        message: str,
        where: Sequence[str | int] = (),
        *,
        cls: type[E] = InputError,  # type: ignore[assignment]
    ) -> E:
        """An :class:`InputError` (or subclass) located at ``where`` in this file."""
        return cls(message, path=self.path, line=self.line_of(where), field=dotted(where) or None)


def dotted(where: Sequence[str | int]) -> str:
    """``("metrics", "LY", "value")`` -> ``metrics.LY.value``; indexes as ``[0]``."""
    out = ""
    for part in where:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _walk(node: yaml.Node, path: Path_, lines: dict[Path_, int], path_str: str) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for knode, vnode in node.value:
            if not isinstance(knode, yaml.ScalarNode):
                raise InputError(
                    "mapping keys must be plain scalars",
                    path=path_str,
                    line=knode.start_mark.line + 1,
                )
            key = str(_construct_scalar(knode))
            if key in out:
                raise InputError(
                    f"duplicate key {key!r}",
                    path=path_str,
                    line=knode.start_mark.line + 1,
                    field=dotted((*path, key)),
                )
            out[key] = _walk(vnode, (*path, key), lines, path_str)
            # A key's own line wins over its value's (a block value starts below it).
            lines[(*path, key)] = knode.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_walk(n, (*path, i), lines, path_str) for i, n in enumerate(node.value)]
    try:
        return _construct_scalar(node)
    except ValueError as exc:  # e.g. a date like 2026-13-01
        raise InputError(
            f"invalid value {node.value!r}: {exc}",
            path=path_str,
            line=node.start_mark.line + 1,
            field=dotted(path) or None,
        ) from None


def _construct_scalar(node: yaml.Node) -> Any:
    # SafeConstructor resolves the scalar's tag (int, float, bool, null ...). Dates stay
    # ISO strings: the JSON Schema checks them as strings, pydantic parses them later.
    value = yaml.constructor.SafeConstructor().construct_object(node, deep=True)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def load_located(path: Path, *, text: str | None = None) -> LocatedDoc:
    """Parse one YAML document from ``path`` with line numbers for every path."""
    name = str(path)
    if text is None:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise InputError("no such file", path=name) from None
        except UnicodeDecodeError as exc:
            raise InputError(f"not UTF-8 text ({exc.reason})", path=name) from None
    try:
        nodes = list(yaml.compose_all(text, Loader=_Loader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise InputError(f"invalid YAML: {exc.problem or exc}", path=name, line=line) from None
    except yaml.YAMLError as exc:
        raise InputError(f"invalid YAML: {exc}", path=name) from None
    if not nodes or nodes[0] is None:
        raise InputError("empty file", path=name)
    if len(nodes) > 1:
        raise InputError(
            "expected one YAML document, found several",
            path=name,
            line=nodes[1].start_mark.line + 1,
        )
    lines: dict[Path_, int] = {}
    try:
        data = _walk(nodes[0], (), lines, name)
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        raise InputError(
            f"invalid YAML value: {exc.problem}",
            path=name,
            line=mark.line + 1 if mark is not None else None,
        ) from None
    return LocatedDoc(data, lines, name, text)
