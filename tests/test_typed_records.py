"""No record jbgrade publishes has an untyped field (conventions: typed versioned
records end to end, no ``dict[str, Any]`` in published results).

Every pydantic model defined in the package is checked: a field whose type mentions
``Any`` fails the test. Open plug-in options and foreign JSON are ``JsonObject``
(``dict[str, JsonValue]``): JSON by construction, validated by their own model where
one exists (design 0190).
"""

from __future__ import annotations

import importlib
import pkgutil
import typing

from pydantic import BaseModel

import jbgrade

#: Modules not imported here: the CLI entry point runs the app, Alembic's env
#: needs a migration context.
_SKIP = ("jbgrade.__main__", "jbgrade.registry.migrations.env")


def _models() -> list[type[BaseModel]]:
    found: dict[str, type[BaseModel]] = {}
    for info in pkgutil.walk_packages(jbgrade.__path__, "jbgrade."):
        if info.name in _SKIP:
            continue
        module = importlib.import_module(info.name)
        for obj in vars(module).values():
            if (
                isinstance(obj, type)
                and issubclass(obj, BaseModel)
                and obj.__module__.startswith("jbgrade.")
            ):
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return [found[k] for k in sorted(found)]


def _mentions_any(t: object) -> bool:
    return t is typing.Any or any(_mentions_any(a) for a in typing.get_args(t))


def test_no_model_field_is_typed_any() -> None:
    models = _models()
    assert len(models) > 100  # the walk found the package's records
    untyped = [
        f"{m.__module__}.{m.__qualname__}.{name}: {f.annotation}"
        for m in models
        for name, f in m.model_fields.items()
        if _mentions_any(f.annotation)
    ]
    assert not untyped, "untyped record fields:\n" + "\n".join(untyped)
