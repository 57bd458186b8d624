"""JBG vector strings: strict parsing and canonical formatting."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from jbgrade._errors import (
    DuplicateMetricError,
    MetricOrderError,
    MetricValueError,
    MissingMetricError,
    UnknownMetricError,
    VectorError,
    VectorPrefixError,
    VectorSyntaxError,
)
from jbgrade.rubric._tables import VERSIONS, Metric, Tables, default_tables, tables_for

__all__ = ["NOT_ASSESSED", "Vector", "parse_vector", "tables_of"]

NOT_ASSESSED = "X"
_WHITESPACE = re.compile(r"\s")


class Vector(Mapping[str, str]):
    """A parsed JBG vector: metric key -> value letter, in canonical order.

    Immutable and hashable. ``X`` marks a metric that was not assessed.
    """

    __slots__ = ("_tables", "_text", "_values")

    def __init__(self, values: Mapping[str, str], tables: Tables | None = None):
        t = tables or default_tables()
        vals: list[str] = []
        for pos, m in enumerate(t.metrics, start=1):
            if m.key not in values:
                raise MissingMetricError(
                    f"missing metric {m.key} (expected at position {pos})",
                    metric=m.key,
                    position=pos,
                )
            v = values[m.key]
            if v != NOT_ASSESSED and v not in m.letters:
                raise MetricValueError(
                    f"metric {m.key} does not allow value {_show(str(v))} (allowed: {_allowed(m)})",
                    metric=m.key,
                    position=pos,
                )
            vals.append(v)
        unknown = set(values) - {m.key for m in t.metrics}
        if unknown:
            k = sorted(unknown, key=str)[0]
            raise UnknownMetricError(f"unknown metric {_show(str(k))}", metric=str(k))
        self._tables = t
        self._values = tuple(vals)
        self._text: str | None = None

    @classmethod
    def _trusted(cls, values: tuple[str, ...], tables: Tables, text: str | None = None) -> Vector:
        v = object.__new__(cls)
        v._tables = tables
        v._values = values
        v._text = text  # the canonical string, when the caller has it
        return v

    def __getitem__(self, key: str) -> str:
        for m, v in zip(self._tables.metrics, self._values, strict=True):
            if m.key == key:
                return v
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return (m.key for m in self._tables.metrics)

    def __len__(self) -> int:
        return len(self._values)

    def __hash__(self) -> int:
        return hash((self._tables.prefix, self._values))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Vector):
            return self._tables.prefix == other._tables.prefix and self._values == other._values
        return NotImplemented

    def __repr__(self) -> str:
        return f"Vector({self.canonical()!r})"

    def __str__(self) -> str:
        return self.canonical()

    @property
    def tables(self) -> Tables:
        return self._tables

    @property
    def values_tuple(self) -> tuple[str, ...]:
        """Value letters in canonical metric order."""
        return self._values

    @property
    def not_assessed(self) -> tuple[str, ...]:
        """Keys of the metrics given as ``X``."""
        return tuple(
            m.key for m, v in zip(self._tables.metrics, self._values, strict=True) if v == "X"
        )

    def canonical(self) -> str:
        """The canonical string; ``parse_vector(v.canonical()) == v``."""
        if self._text is None:
            self._text = self._tables.prefix + "/".join(
                f"{m.key}:{v}" for m, v in zip(self._tables.metrics, self._values, strict=True)
            )
        return self._text

    def replace(self, **changes: str) -> Vector:
        """A copy with some metrics changed (validated)."""
        d = dict(self.items())
        d.update(changes)
        return Vector(d, self._tables)

    def resolved(self) -> dict[str, str]:
        """Letters with every ``X`` replaced by the metric's worst value (precaution)."""
        return {
            m.key: (m.worst if v == "X" else v)
            for m, v in zip(self._tables.metrics, self._values, strict=True)
        }


def _show(text: str, limit: int = 24) -> str:
    """A bounded repr for error messages (input may be arbitrarily long)."""
    return repr(text if len(text) <= limit else text[:limit] + "...")


def _allowed(m: Metric) -> str:
    return "/".join((*m.letters, NOT_ASSESSED))


def tables_of(text: object) -> Tables:
    """The shipped tables a vector string's prefix names (JBG 1.0 when it names none).

    ``JBG:1.1/...`` gives the 1.1 tables; anything else the 1.0 tables, whose
    strict parser then names what is wrong with the input.
    """
    if type(text) is str and text[:4] == "JBG:":
        ver = text[4:].partition("/")[0]
        if ver in VERSIONS:
            return tables_for(ver)
    return default_tables()


def parse_vector(text: str, tables: Tables | None = None) -> Vector:
    """Parse a JBG vector string strictly.

    The grammar is exact: ``JBG:1.0/`` then every metric as ``KEY:VALUE`` in
    canonical order, separated by ``/``, upper case, no whitespace anywhere.
    Any deviation raises a :class:`~jbgrade.VectorError` subclass whose
    ``metric`` and ``position`` (1-based part index, the prefix being part 0)
    locate the problem; the message names both.

    Without ``tables``, the version in the prefix chooses the shipped tables
    (``JBG:1.0/`` or ``JBG:1.1/``).
    """
    t = tables or tables_of(text)
    if not isinstance(text, str):
        raise VectorError(f"a vector must be a string, not {type(text).__name__}")
    parts = text.split("/")
    # Fast path: a valid vector is exactly one known part per position. Anything
    # else falls through to the strict parse, which finds and names the problem.
    if len(parts) == len(t.part_letters) + 1 and parts[0] == t.prefix[:-1]:
        try:
            found = tuple([d[p] for d, p in zip(t.part_letters, parts[1:], strict=True)])
        except KeyError:
            pass
        else:
            return Vector._trusted(found, t, text if type(text) is str else str(text))
    return _parse_strict(text, parts, t, explicit=tables is not None)


def _parse_strict(text: str, parts: list[str], t: Tables, *, explicit: bool) -> Vector:
    """The strict parse, for input the fast path did not take: names the first problem.

    ``explicit``: the caller chose the tables (an unsupported version is then
    reported against those tables' version alone).
    """
    if not text:
        raise VectorPrefixError(f"empty vector (expected {t.prefix}...)", position=0)
    _check_prefix(parts[0], t, explicit=explicit)
    _check_whitespace(text, parts)
    letters = _metric_letters(parts, t)
    for i, m in enumerate(t.metrics, start=1):
        if m.key not in letters:
            raise MissingMetricError(
                f"missing metric {m.key} (expected at position {i})", metric=m.key, position=i
            )
    return Vector._trusted(tuple(letters[m.key] for m in t.metrics), t)


def _check_prefix(part0: str, t: Tables, *, explicit: bool) -> None:
    head = t.prefix[:-1]  # "JBG:1.0"
    reads = head if explicit else ", ".join(f"{t.standard}:{v}" for v in VERSIONS)
    std = t.standard + ":"
    # The prefix first (ignoring surrounding whitespace, reported next with its
    # location): for input that is not a JBG vector at all, that is the useful message.
    p0 = part0.strip()
    if p0 != head:
        if p0.upper() == head:
            raise VectorPrefixError(
                f"prefix must be upper case: {_show(p0)} (expected {t.prefix!r})",
                position=0,
            )
        if p0.upper().startswith(std):
            raise VectorPrefixError(
                f"unsupported version {_show(p0[len(std) :])} at position 0 "
                f"(this implementation reads {reads})",
                position=0,
            )
        raise VectorPrefixError(
            f"vector must start with {t.prefix!r} (got {_show(p0)} at position 0)",
            position=0,
        )


def _check_whitespace(text: str, parts: list[str]) -> None:
    ws = _WHITESPACE.search(text)
    if ws is not None:
        # Locate the whitespace by part so the message names the metric it sits in.
        pos = text.count("/", 0, ws.start())
        if pos == 0:
            raise VectorSyntaxError(
                f"whitespace at character {ws.start() + 1}, in the prefix (position 0)",
                position=0,
            )
        key = parts[pos].partition(":")[0].strip() or "?"
        raise VectorSyntaxError(
            f"whitespace at character {ws.start() + 1}, in part {pos} "
            f"({_show(parts[pos])}, metric {key})",
            metric=key,
            position=pos,
        )


def _metric_letters(parts: list[str], t: Tables) -> dict[str, str]:
    """Metric key -> letter of each part after the prefix, in order, each part checked."""
    order = {m.key: i for i, m in enumerate(t.metrics)}
    seen: dict[str, int] = {}
    letters: dict[str, str] = {}
    last = -1
    for pos, part in enumerate(parts[1:], start=1):
        expected = t.metrics[last + 1].key if last + 1 < len(t.metrics) else None
        if not part:
            where = (
                f"expected metric {expected}"
                if expected
                else f"trailing '/' after {t.metrics[-1].key}"
            )
            raise VectorSyntaxError(
                f"empty part at position {pos} ({where})", metric=expected, position=pos
            )
        key, sep, val = part.partition(":")
        if not sep or not key:
            raise VectorSyntaxError(
                f"part {pos} {_show(part)} is not METRIC:VALUE"
                + (f" (expected {expected}:<value>)" if expected else ""),
                metric=key or expected,
                position=pos,
            )
        _check_key(key, pos, t, order)
        if key in seen:
            raise DuplicateMetricError(
                f"metric {key} repeated at position {pos} (first at {seen[key]})",
                metric=key,
                position=pos,
            )
        if order[key] < last:
            prev = t.metrics[last].key
            raise MetricOrderError(
                f"metric {key} at position {pos} must come before {prev}", metric=key, position=pos
            )
        _check_value(t.metrics[order[key]], key, val, pos)
        seen[key] = pos
        letters[key] = val
        last = order[key]
    return letters


def _check_key(key: str, pos: int, t: Tables, order: dict[str, int]) -> None:
    if key not in order:
        if key.upper() in order:
            raise UnknownMetricError(
                f"metric keys are upper case: {_show(key)} at position {pos} "
                f"(did you mean {key.upper()}?)",
                metric=key,
                position=pos,
            )
        raise UnknownMetricError(
            f"unknown metric {_show(key)} at position {pos} "
            f"({t.standard} {t.version} metrics: {', '.join(order)})",
            metric=key,
            position=pos,
        )


def _check_value(m: Metric, key: str, val: str, pos: int) -> None:
    if val != NOT_ASSESSED and val not in m.letters:
        if not val:
            problem = ": no value"
        elif val.upper() in m.letters or val.upper() == NOT_ASSESSED:
            problem = f": values are upper case, got {_show(val)} (did you mean {val.upper()}?)"
        else:
            problem = f" does not allow value {_show(val)}"
        raise MetricValueError(
            f"metric {key} at position {pos}{problem} (allowed: {_allowed(m)})",
            metric=key,
            position=pos,
        )
