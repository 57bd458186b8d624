"""The plug-in kernel: one registry type for every kind of plug-in.

Targets, attacks, judges, behaviour formats, exporters, importers, executors
and policy profiles are all *named factories*. Each kind has one
:class:`PluginRegistry` with an entry-point group; built-ins register with
the decorator, third parties declare an entry point in their own package::

    [project.entry-points."jbgrade.targets"]
    my-target = "my_pkg.target:make_target"

and need not touch jbgrade's files. The rules are the same for every kind:

- **One convention.** A factory is ``factory(options)``, where ``options`` is
  an instance of the plug-in's typed options model (a pydantic model given at
  registration) - or, for plug-ins registered without one, the mapping of
  options as given. :meth:`PluginRegistry.create` validates and calls.
- **Entry points are loaded once**, on first need (importing jbgrade never
  imports a plug-in's dependencies), under a lock.
- **Duplicate registration is an error** (:class:`~jbgrade.PluginError`),
  whether two built-ins or an entry point that reuses a built-in's name.
- **Scoped registration for tests**: ``with registry.scoped(name, factory):``
  registers for the block only.
- **Every kind is listed** by :func:`plugin_kinds`, so contract tests can be
  parametrised over every registered name of every kind.
- **Fast paths are capabilities, never class checks.** A plug-in that offers a
  fast path declares it - a ``capabilities`` class attribute holding its kind's
  capabilities record (read with :func:`capabilities_of`), or an optional method
  of a capability protocol (e.g. ``jbgrade.judges.SyncJudge``). Callers test the
  declaration, so a third party's plug-in gets the same fast path as a built-in.

This module sits below every layer (it imports only the exception tree).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, Generic, TypeVar

from jbgrade._errors import InputError, PluginError

__all__ = ["PluginInfo", "PluginRegistry", "capabilities_of", "plugin_kinds", "plugin_registry"]

F = TypeVar("F", bound=Callable[..., object])
C = TypeVar("C")

_KINDS: dict[str, PluginRegistry[Any]] = {}
_KINDS_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class PluginInfo(Generic[F]):
    """One registered plug-in: its name, factory, options model and origin."""

    name: str
    factory: F
    options: type[Any] | None
    origin: str  # "builtin", "entry-point:<value>" or "scoped"


class PluginRegistry(Generic[F]):
    """Factories of one kind of plug-in, by name."""

    def __init__(
        self,
        kind: str,
        group: str,
        *,
        error: type[InputError] = InputError,
        expand: Callable[[str, Any], Iterable[tuple[str, F]]] | None = None,
        options: type[Any] | None = None,
    ) -> None:
        """``options`` is the kind's options model, for plug-ins registered without
        their own (entry points included). ``expand`` turns one loaded entry point
        into its ``(name, factory)`` pairs, for kinds whose entry point may name
        several plug-ins (a directory of policy profiles); by default an entry point
        is one factory under its own name."""
        self.options = options
        self.kind = kind
        self.group = group
        self._error = error
        self._expand = expand
        self._plugins: dict[str, PluginInfo[F]] = {}
        self._loaded = False
        self._lock = threading.RLock()
        with _KINDS_LOCK:
            _KINDS[kind] = self  # a module reloaded replaces its kind's registry

    # -- registering ---------------------------------------------------------------------

    def add(
        self, name: str, factory: F, *, options: type[Any] | None = None, origin: str = "builtin"
    ) -> F:
        """Register ``factory`` under ``name``; a name already taken is an error."""
        with self._lock:
            old = self._plugins.get(name)
            same = old is not None and (
                old.factory is factory
                or (old.origin == origin and origin.startswith("entry-point:"))
            )
            if old is not None and not same:
                raise PluginError(
                    f"{self.kind} {name!r} is already registered ({old.origin}); "
                    f"cannot register it again ({origin})"
                )
            self._plugins[name] = PluginInfo(name, factory, options or self.options, origin)
        return factory

    def register(self, name: str, *, options: type[Any] | None = None) -> Callable[[F], F]:
        """Decorator form of :meth:`add`."""

        def deco(factory: F) -> F:
            return self.add(name, factory, options=options)

        return deco

    @contextmanager
    def scoped(self, name: str, factory: F, *, options: type[Any] | None = None) -> Iterator[F]:
        """Register ``factory`` for the ``with`` block only (tests)."""
        self._load_entry_points()
        self.add(name, factory, options=options, origin="scoped")
        try:
            yield factory
        finally:
            with self._lock:
                self._plugins.pop(name, None)

    def _load_entry_points(self) -> None:
        with self._lock:  # re-entrant: a plug-in may look up another while loading
            if self._loaded:
                return
            self._loaded = True
            for ep in entry_points(group=self.group):
                try:
                    obj = ep.load()
                    pairs = (
                        list(self._expand(ep.name, obj))
                        if self._expand is not None
                        else [(ep.name, obj)]
                    )
                except Exception as exc:  # a broken plug-in is named, never half-loaded
                    self._loaded = False
                    raise PluginError(
                        f"{self.kind} entry point {ep.name!r} ({ep.value}) failed to load: {exc}"
                    ) from exc
                try:
                    for name, factory in pairs:
                        self.add(name, factory, origin=f"entry-point:{ep.value}")
                except PluginError:
                    self._loaded = False  # the clash is reported on every look-up
                    raise

    def refresh(self) -> None:
        """Read the entry-point group again (after installing a plug-in in this process)."""
        with self._lock:
            self._loaded = False
            for name in [n for n, p in self._plugins.items() if p.origin.startswith("entry-")]:
                del self._plugins[name]
        self._load_entry_points()

    # -- looking up ----------------------------------------------------------------------

    def info(self, name: str) -> PluginInfo[F]:
        """The registered plug-in; an unknown name raises the kind's input error."""
        if name not in self._plugins:
            self._load_entry_points()
        try:
            return self._plugins[name]
        except KeyError:
            known = ", ".join(self.names())
            raise self._error(f"unknown {self.kind} type {name!r}; known: {known}") from None

    def get(self, name: str) -> F:
        """The factory registered under ``name``."""
        return self.info(name).factory

    def names(self) -> list[str]:
        """Every registered name, built-in and from entry points, sorted."""
        self._load_entry_points()
        return sorted(self._plugins)

    def __contains__(self, name: object) -> bool:
        self._load_entry_points()
        return name in self._plugins

    def create(self, name: str, options: Mapping[str, Any] | None = None) -> Any:
        """Validate ``options`` with the plug-in's options model and call its factory."""
        info = self.info(name)
        opts: Any = dict(options or {})
        if info.options is not None:
            validate = getattr(info.options, "model_validate", None)
            opts = validate(opts) if validate is not None else info.options(**opts)
        return info.factory(opts)


def plugin_kinds() -> dict[str, PluginRegistry[Any]]:
    """Every plug-in registry created so far, by kind (import the layers to fill it)."""
    with _KINDS_LOCK:
        return dict(_KINDS)


def plugin_registry(kind: str) -> PluginRegistry[Any]:
    """The registry of one kind of plug-in."""
    with _KINDS_LOCK:
        try:
            return _KINDS[kind]
        except KeyError:
            raise InputError(
                f"unknown plug-in kind {kind!r}; known: {', '.join(sorted(_KINDS))}"
            ) from None


def capabilities_of(plugin: object, kind: type[C]) -> C:
    """The fast paths ``plugin`` declares in its ``capabilities`` attribute.

    ``kind`` is the plug-in kind's capabilities record (e.g.
    ``jbgrade.harness.TargetCapabilities``); a plug-in that declares nothing, or
    something that is not a ``kind``, gets ``kind()``: every fast path off.
    """
    declared = getattr(plugin, "capabilities", None)
    return declared if isinstance(declared, kind) else kind()
