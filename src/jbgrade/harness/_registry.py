"""A name -> factory registry with an entry-point group for third-party plug-ins."""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Generic, TypeVar

from jbgrade._errors import InputError

__all__ = ["Registry"]

F = TypeVar("F", bound=Callable[..., object])


class Registry(Generic[F]):
    """Factories by name. Built-ins register with :meth:`register`; others come
    from the entry-point group, loaded on first miss (so importing jbgrade never
    imports a plug-in's dependencies)."""

    def __init__(self, kind: str, group: str) -> None:
        self.kind = kind
        self.group = group
        self._factories: dict[str, F] = {}
        self._loaded_entry_points = False

    def register(self, name: str) -> Callable[[F], F]:
        def deco(factory: F) -> F:
            self._factories[name] = factory
            return factory

        return deco

    def _load_entry_points(self) -> None:
        if self._loaded_entry_points:
            return
        self._loaded_entry_points = True
        for ep in entry_points(group=self.group):
            if ep.name not in self._factories:
                self._factories[ep.name] = ep.load()

    def get(self, name: str) -> F:
        if name not in self._factories:
            self._load_entry_points()
        try:
            return self._factories[name]
        except KeyError:
            known = ", ".join(self.names())
            raise InputError(f"unknown {self.kind} type {name!r}; known: {known}") from None

    def names(self) -> list[str]:
        self._load_entry_points()
        return sorted(self._factories)
