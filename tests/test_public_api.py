"""The public API is exactly what ``__all__`` says, and every name resolves."""

from __future__ import annotations

import importlib
import pkgutil

import jbgrade


def _public_packages() -> list[str]:
    names = ["jbgrade"]
    for mod in pkgutil.iter_modules(jbgrade.__path__):
        if mod.ispkg and not mod.name.startswith("_"):
            names.append(f"jbgrade.{mod.name}")
    return names


def test_every_public_package_declares_all_and_exports_resolve() -> None:
    for name in _public_packages():
        mod = importlib.import_module(name)
        assert hasattr(mod, "__all__"), f"{name} has no __all__"
        for export in mod.__all__:
            assert hasattr(mod, export), f"{name}.__all__ names missing {export}"


def test_top_level_reexports_the_core_api() -> None:
    for name in ("parse_vector", "grade", "grade_many", "Grade", "Vector", "JbgradeError"):
        assert name in jbgrade.__all__


def test_public_names_are_not_private_modules() -> None:
    for name in _public_packages():
        mod = importlib.import_module(name)
        for export in mod.__all__:
            assert not export.startswith("_") or export == "__version__"


def test_every_public_class_in_all_of_its_package() -> None:
    # Anything public that a _private module defines and its package imports must be in __all__.
    for name in _public_packages():
        mod = importlib.import_module(name)
        for attr, value in vars(mod).items():
            if attr.startswith("_") or isinstance(value, type(mod)):
                continue
            origin = getattr(value, "__module__", "") or ""
            if origin.startswith(name + "._"):
                assert attr in mod.__all__, f"{name}.{attr} is imported but not in __all__"
