"""Pydantic validation errors located in a YAML document (``file:line: field: message``).

The harness's YAML (campaign specs, attack files, reference configs) is read by
:mod:`jbgrade._yaml`, which keeps the line of every path; this maps the location of
a pydantic error back onto that document.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from pydantic import ValidationError

from jbgrade._base import error_message
from jbgrade._errors import InputError
from jbgrade._yaml import LocatedDoc, Path_, dotted

__all__ = ["located_error", "value_at"]


def value_at(doc: LocatedDoc, at: Sequence[str | int]) -> Any:
    """The value at ``at`` in the document's data (``at`` must exist)."""
    value = doc.data
    for part in at:
        value = value[part]
    return value


def _has(node: Any, part: str | int) -> bool:
    if isinstance(node, dict):
        return isinstance(part, str) and part in node
    return isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)


def _where(
    data: Any, loc: Sequence[str | int], skip: Collection[str]
) -> tuple[list[str | int], list[str | int]]:
    """(the part of ``loc`` present in ``data``, the path to name as the field).

    Parts absent from the data are left out of both when they are in ``skip``
    (a shorthand's implied key) or are not names (pydantic's union tags such as
    ``function-after[...]`` and ``[key]``); a missing or unknown field keeps its name.
    """
    found: list[str | int] = []
    field: list[str | int] = []
    node = data
    missing = False
    for part in loc:
        if not missing:
            if _has(node, part):
                node = node[part]
                found.append(part)
                field.append(part)
                continue
            if isinstance(part, str) and (part in skip or not part.isidentifier()):
                continue
            missing = True
        if isinstance(part, int) or part.isidentifier():
            field.append(part)
    return found, field


def located_error(
    exc: ValidationError,
    doc: LocatedDoc,
    at: Sequence[str | int] = (),
    *,
    cls: type[InputError] = InputError,
    skip: Collection[str] = (),
) -> InputError:
    """The first error of ``exc`` (raised validating the value at ``at``) as ``cls``."""
    err = exc.errors()[0]
    msg = error_message(err)
    loc = [p for p in err["loc"] if isinstance(p, str | int)]
    found, field = _where(value_at(doc, at), loc, skip)
    here: Path_ = (*at, *found)
    return cls(
        msg,
        path=doc.path,
        line=doc.line_of(here),
        field=dotted((*at, *field)) or "(top level)",
    )
