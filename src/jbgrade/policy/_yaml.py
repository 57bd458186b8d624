"""YAML loading that remembers where every node came from.

Profiles are reviewed by people and rejected by machines, so every error must
point at ``file:line``. PyYAML's composer keeps marks on nodes; we build the
plain data ourselves and record the line of each path on the way. Duplicate
keys (which PyYAML silently accepts) are rejected, dates become ISO strings and
``1e25`` (YAML 1.1 would read it as a string) is a float.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any

import yaml

from jbgrade._errors import PolicyError

__all__ = ["Located", "load_located"]

Path_ = tuple[str | int, ...]

_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[misc]
    """SafeLoader plus floats without a dot (``1e25``)."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


class Located:
    """Plain data (dicts, lists, scalars) plus the line of every path in it."""

    __slots__ = ("data", "lines", "source")

    def __init__(self, data: Any, lines: dict[Path_, int], source: str):
        self.data = data
        self.lines = lines
        self.source = source

    def line(self, path: Path_) -> int | None:
        """The line of ``path``, or of its nearest ancestor that has one."""
        p = tuple(path)
        while p:
            if p in self.lines:
                return self.lines[p]
            p = p[:-1]
        return self.lines.get((), None)


def _walk(loader: Any, node: yaml.Node, path: Path_, lines: dict[Path_, int], src: str) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for knode, vnode in node.value:
            key = loader.construct_object(knode, deep=True)
            if isinstance(key, bool | _dt.date) or key is None:
                key = str(knode.value)
            if not isinstance(key, str | int | float):
                raise PolicyError(
                    "mapping keys must be scalars", path=src, line=knode.start_mark.line + 1
                )
            skey = str(key)
            if skey in out:
                raise PolicyError(
                    f"duplicate key {skey!r}", path=src, line=knode.start_mark.line + 1
                )
            out[skey] = _walk(loader, vnode, (*path, skey), lines, src)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_walk(loader, v, (*path, i), lines, src) for i, v in enumerate(node.value)]
    value = loader.construct_object(node, deep=True)
    if isinstance(value, _dt.datetime | _dt.date):
        return value.isoformat()
    return value


def load_located(text: str, source: str) -> Located:
    """Parse one YAML document; errors carry ``source:line``."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise PolicyError("empty document", path=source, line=1)
        lines: dict[Path_, int] = {}
        data = _walk(loader, node, (), lines, source)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        msg = " ".join(str(exc.problem or exc.context or "invalid YAML").split())
        raise PolicyError(f"invalid YAML: {msg}", path=source, line=line) from exc
    except yaml.YAMLError as exc:
        raise PolicyError(f"invalid YAML: {exc}", path=source) from exc
    finally:
        loader.dispose()
    return Located(data, lines, source)
