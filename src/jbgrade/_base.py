"""The one frozen base record and the one validation-error helper.

Every typed record jbgrade publishes or reads (evidence, reports, registry views,
specs, ...) derives from :class:`FrozenRecord`: immutable, and unknown fields are
an error, never silently dropped. A subclass adds to the configuration
(``model_config = ConfigDict(populate_by_name=True)``), pydantic merges it.

:func:`validation_error` is the one way a pydantic ``ValidationError`` becomes
the project's :class:`~jbgrade._errors.InputError` (or a subclass): the first
error only, as one clean line (no "Value error, " prefix, no pydantic URL), with
the field as a dotted path. Bad input must reach the user as one line (exit 2 on
the CLI, a 4xx problem on the API), never as pydantic's multi-line dump.

Lowest layer (conventions.md #12): imports nothing from jbgrade but the
exception tree.
"""

from __future__ import annotations

from typing import Any, TypeAlias

from pydantic import BaseModel, ConfigDict, JsonValue, ValidationError

from jbgrade._errors import InputError

__all__ = ["FrozenRecord", "JsonObject", "error_field", "error_message", "validation_error"]

#: A JSON object whose content is open (a plug-in's options, a judge's spec, a
#: policy context): any JSON, never an arbitrary Python object. Records publish
#: it where the shape belongs to someone else (the plug-in validates its own
#: options); where jbgrade knows the shape, a record types it instead.
JsonObject: TypeAlias = dict[str, JsonValue]


class FrozenRecord(BaseModel):
    """Base of every typed record: frozen, and extra fields are rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def error_message(err: Any) -> str:
    """One pydantic error (an item of ``exc.errors()``) as one clean line."""
    if err.get("type") == "extra_forbidden":
        return "unknown field"
    msg = str(err["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    lines = msg.splitlines()
    return lines[0] if lines else msg


def error_field(err: Any, prefix: str | None = None) -> str | None:
    """The dotted location of one pydantic error (``None`` at the top level).

    ``prefix`` names where the validated value sits in a larger document
    (``evidence`` -> ``evidence.targets.0.id``).
    """
    loc = ".".join(str(p) for p in err.get("loc", ()))
    if prefix:
        return f"{prefix}.{loc}" if loc else prefix
    return loc or None


def validation_error(
    exc: ValidationError,
    *,
    cls: type[InputError] = InputError,
    path: str | None = None,
    line: int | None = None,
    prefix: str | None = None,
    context: str | None = None,
) -> InputError:
    """The first error of ``exc`` as one ``cls`` (``path:line: field: message``).

    ``context`` goes before the message (``"not a valid reconciliation record"``).
    Raise it ``from None``: the pydantic chain is noise to the user.
    """
    errors = exc.errors()
    if not errors:  # pragma: no cover - pydantic always reports at least one
        return cls(str(exc).splitlines()[0], path=path, line=line, field=prefix)
    err = errors[0]
    msg = error_message(err)
    return cls(
        f"{context}: {msg}" if context else msg,
        path=path,
        line=line,
        field=error_field(err, prefix),
    )
