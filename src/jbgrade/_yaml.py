"""One reading of YAML for every file a person writes: profiles, context files, case files.

A case file's ``policy.context`` and a ``--context`` file must mean the same to the
policy engine, so both go through this loader (docs/design/0012-one-yaml-reading.md).
The rules, YAML 1.2's core schema where YAML 1.1 (PyYAML's default) differs:

- only ``true``/``false`` (also ``True``, ``TRUE``, ...) are booleans; ``yes``, ``no``,
  ``on``, ``off``, ``y``, ``n`` stay strings (``designated: no`` is the enum value
  ``'no'``, not ``False``: the "Norway problem");
- ``1e25`` is a float (YAML 1.1 wants ``1.0e+25`` and reads ``1e25`` as a string);
- dates and timestamps become ISO strings (JSON Schema checks them as strings; pydantic
  parses them later); an impossible date such as ``2026-13-01`` is an error;
- duplicate keys are errors (PyYAML silently keeps the last); keys are scalars, read as
  text (``yes:``, ``true:`` and ``2026-01-01:`` keep the text written);
- merge keys (``<<: *defaults``) work as in PyYAML: the mapping's own keys win, then
  the merged mappings in the order listed;
- anchors and aliases work, but an alias inside the collection it names is an error,
  and so is a document whose aliases expand to more than 100,000 copied values;
- a hostile file cannot crash the process: a file larger than :data:`MAX_YAML_BYTES`
  is refused before it is read, and a document nested deeper than
  :data:`MAX_DEPTH` levels or holding more than :data:`MAX_NODES` values is
  refused from the parser's event stream, before the (recursive) composer runs;
  an explicit tag the value does not fit (``!!int ''``, ``!!bool maybe``,
  ``!!timestamp foo``) or one that builds no plain value (``!!binary``) is an
  error naming the line.

Errors are :class:`InputError` (or the subclass the caller names) with ``path:line``
and the dotted field. Next to the plain data, :class:`LocatedDoc` keeps the line of
every path, so later checks (JSON Schema, pydantic, profile rules) can point there too.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml

from jbgrade._errors import InputError

__all__ = [
    "MAX_DEPTH",
    "MAX_NODES",
    "MAX_YAML_BYTES",
    "LocatedDoc",
    "Path_",
    "dotted",
    "load_located",
    "read_bytes_limited",
    "read_located",
    "read_text_limited",
]

#: Largest YAML file read (bytes): case files, specs and profiles are far smaller.
MAX_YAML_BYTES = 4_000_000
#: Deepest nesting of collections accepted (real files nest fewer than 15 levels).
MAX_DEPTH = 200
#: Most values (scalars and collections) in one document.
MAX_NODES = 500_000
#: Texts shorter than this cannot nest deep enough to matter to the C composer
#: (one level takes at least two characters), so the event pre-scan is skipped.
_PRESCAN_FROM = 2 * MAX_DEPTH

#: A path into a document: mapping keys and sequence indexes.
Path_ = tuple[str | int, ...]
E = TypeVar("E", bound=InputError)

_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[misc]
    """SafeLoader with YAML 1.2 booleans and floats without a dot (``1e25``)."""


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
    re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9][0-9_]*)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)


class LocatedDoc:
    """A parsed YAML document plus the line of every value and key in it."""

    __slots__ = ("data", "lines", "path", "text")

    def __init__(self, data: Any, lines: dict[Path_, int], path: str, text: str):
        #: Plain data: dicts, lists, str, int, float, bool, None.
        self.data = data
        #: Path -> 1-based line (a key's own line for mapping entries).
        self.lines = lines
        #: Where the text came from (a file name or a label such as ``<profile>``).
        self.path = path
        #: The text parsed.
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
        """An :class:`InputError` (or subclass) located at ``where`` in this document."""
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


_MERGE = "tag:yaml.org,2002:merge"
#: Values copied through aliases, at most: a few lines of anchors can otherwise
#: expand to billions of values ("billion laughs"), as every copy is built anew.
_MAX_ALIAS_COPIES = 100_000


class _Walk:
    """Builds plain data from composed nodes, recording the line of every path."""

    def __init__(self, loader: Any, source: str, cls: type[InputError]):
        self.loader = loader
        self.source = source
        self.cls = cls
        self.lines: dict[Path_, int] = {}
        self.seen: set[int] = set()  # nodes built once; seeing one again is an alias copy
        self.copies = 0
        self.open: set[int] = set()  # collections being built (an alias to one recurses)

    def fail(self, message: str, node: yaml.Node, path: Path_) -> InputError:
        line = node.start_mark.line + 1
        return self.cls(message, path=self.source, line=line, field=dotted(path) or None)

    def construct(self, node: yaml.Node, path: Path_) -> Any:
        try:
            value = self.loader.construct_object(node, deep=True)
        except ValueError as exc:  # e.g. a date like 2026-13-01
            raise self.fail(f"invalid value {node.value!r}: {exc}", node, path) from None
        except (TypeError, KeyError, IndexError, AttributeError):
            # An explicit tag the text does not fit: !!int '', !!bool maybe, ...
            raise self.fail(
                f"invalid value {node.value!r} for tag {node.tag}", node, path
            ) from None
        if not isinstance(value, str | int | float | bool | dt.date) and value is not None:
            raise self.fail(f"tag {node.tag} is not supported here", node, path)
        return value

    def key(self, node: yaml.Node, path: Path_) -> str:
        if not isinstance(node, yaml.ScalarNode):
            raise self.fail("mapping keys must be plain scalars", node, path)
        value = self.construct(node, path)
        # Keys are names: keep the text written where the value would be re-spelt.
        if isinstance(value, bool | dt.date) or value is None:
            return str(node.value)
        return str(value)

    def node(self, node: yaml.Node, path: Path_) -> Any:
        if id(node) in self.seen:
            self.copies += 1
            if self.copies > _MAX_ALIAS_COPIES:
                raise self.fail(
                    f"aliases expand to more than {_MAX_ALIAS_COPIES:,} copied values", node, path
                )
        self.seen.add(id(node))
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode):
            if id(node) in self.open:
                raise self.fail("an alias refers to a collection that contains it", node, path)
            self.open.add(id(node))
            try:
                if isinstance(node, yaml.MappingNode):
                    return self.mapping(node, path)
                self.lines[path] = node.start_mark.line + 1
                return [self.node(n, (*path, i)) for i, n in enumerate(node.value)]
            finally:
                self.open.discard(id(node))
        self.lines[path] = node.start_mark.line + 1
        value = self.construct(node, path)
        return value.isoformat() if isinstance(value, dt.date) else value

    def mapping(self, node: yaml.MappingNode, path: Path_) -> dict[str, Any]:
        out: dict[str, Any] = {}
        merges = [(k, v) for k, v in node.value if k.tag == _MERGE]
        if len(merges) > 1:
            raise self.fail("duplicate key '<<'", merges[1][0], path)
        if merges:
            # Merged first, so the mapping's own keys (and their lines) win.
            knode, vnode = merges[0]
            sources = vnode.value if isinstance(vnode, yaml.SequenceNode) else [vnode]
            for src in reversed(sources):  # the first listed wins
                if not isinstance(src, yaml.MappingNode):
                    raise self.fail("'<<' merges a mapping or a list of mappings", src, path)
                out.update(self.node(src, path))
        self.lines[path] = node.start_mark.line + 1
        own: set[str] = set()
        for knode, vnode in node.value:
            if knode.tag == _MERGE:
                continue
            key = self.key(knode, path)
            if key in own:
                raise self.fail(f"duplicate key {key!r}", knode, (*path, key))
            own.add(key)
            out[key] = self.node(vnode, (*path, key))
            # A key's own line wins over its value's (a block value starts below it).
            self.lines[(*path, key)] = knode.start_mark.line + 1
        return out


def _problem(exc: yaml.MarkedYAMLError) -> str:
    parts = [str(p) for p in (exc.context, exc.problem) if p]
    return " ".join(", ".join(parts).split()) or "invalid YAML"


def _prescan(text: str, source: str, cls: type[InputError]) -> None:
    """Refuse documents nested deeper than MAX_DEPTH or larger than MAX_NODES values,
    from libyaml's event stream (which does not recurse), before composing: the C
    composer recurses once per level and overflows the C stack on deep input."""
    loader = _Loader(text)
    depth = nodes = 0
    try:
        while loader.check_event():
            ev = loader.get_event()
            if isinstance(ev, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    line = ev.start_mark.line + 1 if ev.start_mark is not None else None
                    raise cls(
                        f"collections nested deeper than {MAX_DEPTH} levels", path=source, line=line
                    )
            elif isinstance(ev, yaml.CollectionEndEvent):
                depth -= 1
            if isinstance(ev, yaml.NodeEvent):
                nodes += 1
                if nodes > MAX_NODES:
                    raise cls(f"more than {MAX_NODES:,} values in one document", path=source)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise cls(f"invalid YAML: {_problem(exc)}", path=source, line=line) from None
    except yaml.YAMLError as exc:
        raise cls(f"invalid YAML: {exc}", path=source) from None
    finally:
        loader.dispose()


def load_located(
    text: str,
    source: str,
    *,
    cls: type[InputError] = InputError,
    allow_empty: bool = False,
) -> LocatedDoc:
    """Parse one YAML document from ``text``; errors are ``cls`` naming ``source:line``.

    A text with no document (empty, or only comments) is an error unless
    ``allow_empty``, which reads it as ``None``.
    """
    if len(text) > MAX_YAML_BYTES:
        raise cls(f"larger than {MAX_YAML_BYTES:,} characters", path=source)
    if len(text) >= _PRESCAN_FROM:
        _prescan(text, source, cls)
    loader = _Loader(text)
    try:
        if not loader.check_node():
            if allow_empty:
                return LocatedDoc(None, {(): 1}, source, text)
            raise cls("empty document", path=source, line=1)
        node = loader.get_node()
        if loader.check_node():
            extra = loader.get_node()
            raise cls(
                "expected one YAML document, found several",
                path=source,
                line=extra.start_mark.line + 1 if extra is not None else None,
            )
        walk = _Walk(loader, source, cls)
        return LocatedDoc(walk.node(node, ()), walk.lines, source, text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise cls(f"invalid YAML: {_problem(exc)}", path=source, line=line) from None
    except yaml.YAMLError as exc:
        raise cls(f"invalid YAML: {exc}", path=source) from None
    except RecursionError:  # the parser and the walk recurse per level of nesting
        raise cls("invalid YAML: collections nested too deeply", path=source) from None
    finally:
        loader.dispose()


def read_bytes_limited(
    path: str | Path, *, max_bytes: int, what: str = "file", cls: type[InputError] = InputError
) -> bytes:
    """The bytes of a file of at most ``max_bytes``: a larger one is refused before it
    is read whole (a case file, and what it points at, come from the other party)."""
    name = str(path)
    try:
        with Path(path).open("rb") as fh:
            data = fh.read(max_bytes + 1)
    except FileNotFoundError:
        raise cls(f"no such {what}", path=name) from None
    except IsADirectoryError:
        raise cls(f"is a directory, not a {what}", path=name) from None
    except OSError as exc:
        raise cls(f"cannot read {what}: {exc.strerror or exc}", path=name) from None
    if len(data) > max_bytes:
        raise cls(f"{what} larger than {max_bytes:,} bytes", path=name)
    return data


def read_text_limited(
    path: str | Path, *, max_bytes: int, what: str = "file", cls: type[InputError] = InputError
) -> str:
    """A UTF-8 text file of at most ``max_bytes`` (checked before reading it whole)."""
    data = read_bytes_limited(path, max_bytes=max_bytes, what=what, cls=cls)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise cls(f"not UTF-8 text ({exc.reason})", path=str(path)) from None


def read_located(
    path: str | Path,
    *,
    cls: type[InputError] = InputError,
    allow_empty: bool = False,
    max_bytes: int = MAX_YAML_BYTES,
) -> LocatedDoc:
    """Read and parse a UTF-8 YAML file; a missing, unreadable or too large file is a
    ``cls`` error."""
    text = read_text_limited(path, max_bytes=max_bytes, cls=cls)
    return load_located(text, str(path), cls=cls, allow_empty=allow_empty)
