"""YAML loading that remembers where every node came from.

Profiles are reviewed by people and rejected by machines, so every error must
point at ``file:line``. PyYAML's composer keeps marks on nodes; we build the
plain data ourselves and record the line of each path on the way. Duplicate
keys (which PyYAML silently accepts) are rejected, dates become ISO strings,
``1e25`` (YAML 1.1 would read it as a string) is a float and only
``true``/``false`` are booleans (``yes``/``no`` stay strings).
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from pathlib import Path
from typing import Any

import yaml

from jbgrade._errors import PolicyError

__all__ = ["Located", "load_context_file", "load_located"]

Path_ = tuple[str | int, ...]

_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[misc]
    """SafeLoader with YAML 1.2 booleans and floats without a dot (``1e25``)."""


# YAML 1.2 booleans only: "yes", "no", "on", "off" stay strings (enum values like
# designated: [no, yes] must not turn into booleans - the "Norway problem").
_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:bool"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)
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


def load_context_file(path: str | Path) -> dict[str, Any]:
    """A decision context from a JSON or YAML file (a mapping of field: value).

    YAML is read like profiles are (YAML 1.2 booleans, so ``designated: no``
    stays the string ``"no"``); errors name the file and line.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise PolicyError("no such context file", path=str(p)) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"cannot read context file: {exc}", path=str(p)) from exc
    data: Any
    if p.suffix == ".json":
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise PolicyError(
                f"context file is not valid JSON: {exc}",
                path=str(p),
                line=getattr(exc, "lineno", None),
            ) from exc
    else:
        data = load_located(text, str(p)).data if text.strip() else None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise PolicyError("context file must hold a mapping of field: value", path=str(p))
    return data
