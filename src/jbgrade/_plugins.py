"""The plug-in kernel: one registry type for every kind of plug-in.

Targets, attacks, judges, behaviour formats, exporters, importers, chat models
and policy profiles are all *named factories*. Each kind has one
:class:`PluginRegistry` with an entry-point group; built-ins register with
the decorator, third parties declare an entry point in their own package::

    [project.entry-points."jbgrade.targets"]
    my-target = "my_pkg.target:make_target"

and need not touch jbgrade's files. The rules are the same for every kind:

- **One convention** (design 0181). A factory is ``factory(options) -> plugin``,
  where ``options`` is an instance of the plug-in's *options model*: a frozen
  pydantic model that forbids unknown fields. The model is given at registration
  (``register(name, options=Model)``), or declared by the plug-in: a class with
  an ``Options`` attribute and a ``from_options(options)`` classmethod, or a
  factory function with an ``Options`` attribute (so an entry point may name the
  class or function itself), or is the kind's default model.
  :meth:`PluginRegistry.create` validates the options (a bad option is the kind's
  input error naming the field) and calls the factory. A plug-in registered with
  none of these, in a kind that had an older calling convention, still works
  through the kind's adapter, with a :class:`DeprecationWarning` naming it.
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

This module sits below every layer (it imports only the exception tree and the base
record's validation-error helper).
"""

from __future__ import annotations

import inspect
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from jbgrade._base import validation_error
from jbgrade._errors import InputError, PluginError

__all__ = [
    "PluginInfo",
    "PluginRegistry",
    "capabilities_of",
    "plugin_kinds",
    "plugin_registry",
    "positional_arity",
]

F = TypeVar("F", bound=Callable[..., object])
C = TypeVar("C")

_KINDS: dict[str, PluginRegistry[Any]] = {}
_KINDS_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class PluginInfo(Generic[F]):
    """One registered plug-in: its name, factory, options model and origin.

    ``legacy`` is true for a plug-in that declares no options model in a kind with
    an older calling convention: :meth:`PluginRegistry.create` calls it through the
    kind's adapter and warns (built-ins never are: a contract test checks it).
    """

    name: str
    factory: F
    options: type[BaseModel] | None
    origin: str  # "builtin", "entry-point:<value>" or "scoped"
    legacy: bool = False


class PluginRegistry(Generic[F]):
    """Factories of one kind of plug-in, by name."""

    def __init__(
        self,
        kind: str,
        group: str,
        *,
        error: type[InputError] = InputError,
        expand: Callable[[str, Any], Iterable[tuple[str, F]]] | None = None,
        options: type[BaseModel] | None = None,
        legacy: Callable[[Any, Any], Any] | None = None,
        legacy_if: Callable[[Any], bool] | None = None,
    ) -> None:
        """``options`` is the kind's options model, for plug-ins registered without
        their own (entry points included). ``expand`` turns one loaded entry point
        into its ``(name, factory)`` pairs, for kinds whose entry point may name
        several plug-ins (a directory of policy profiles); by default an entry point
        is one factory under its own name. ``legacy`` is the kind's adapter for
        plug-ins written to its older calling convention: ``legacy(factory,
        options) -> plugin`` (the kind's default model instance, or the mapping
        where the kind has none); with it, a plug-in that declares no options
        model is legacy (called through it, with a DeprecationWarning) - or,
        given ``legacy_if``, only one for which ``legacy_if(factory)`` is true (a
        kind whose default model covers new-style plug-ins too)."""
        self.options = options
        self._legacy = legacy
        self._legacy_if = legacy_if
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
        self,
        name: str,
        factory: F,
        *,
        options: type[BaseModel] | None = None,
        origin: str = "builtin",
    ) -> F:
        """Register ``factory`` under ``name``; a name already taken is an error.

        ``factory`` follows the convention: called with an instance of ``options``;
        or it declares ``Options`` (a class with ``from_options``, which is then the
        factory, or a function); or, without either, the kind's legacy adapter where
        it applies, else the kind's default model.
        """
        info = self._info_for(name, factory, options, origin)
        with self._lock:
            old = self._plugins.get(name)
            same = old is not None and (
                # equal, not identical: a class's factory is its bound from_options
                old.factory == info.factory
                or (old.origin == origin and origin.startswith("entry-point:"))
            )
            if old is not None and not same:
                raise PluginError(
                    f"{self.kind} {name!r} is already registered ({old.origin}); "
                    f"cannot register it again ({origin})"
                )
            self._plugins[name] = info
        return factory

    def _info_for(
        self, name: str, obj: F, options: type[BaseModel] | None, origin: str
    ) -> PluginInfo[F]:
        if options is not None:
            return PluginInfo(name, obj, _options_model(self.kind, name, options), origin)
        declared = getattr(obj, "Options", None)
        if isinstance(declared, type):  # declared by the plug-in (class or function)
            model = _options_model(self.kind, name, declared)
            from_options = getattr(obj, "from_options", None)
            if callable(from_options):
                return PluginInfo(name, from_options, model, origin)
            if not isinstance(obj, type):  # a factory function with an Options attribute
                return PluginInfo(name, obj, model, origin)
        if self._legacy is not None and (self._legacy_if is None or self._legacy_if(obj)):
            return PluginInfo(name, obj, None, origin, legacy=True)
        if self.options is None:
            raise PluginError(
                f"{self.kind} {name!r} ({origin}) declares no options model: register it "
                "with options=Model, or give it Options (and from_options on a class)"
            )
        return PluginInfo(name, obj, self.options, origin)

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

    def create(self, name: str, options: Mapping[str, Any] | BaseModel | None = None) -> Any:
        """Validate ``options`` with the plug-in's options model and call its factory.

        ``options`` is a mapping (validated; a bad option raises the kind's input
        error naming the field) or an instance of the model already. A legacy
        plug-in is called through the kind's adapter with a DeprecationWarning.
        """
        info = self.info(name)
        model = self.options if info.legacy else info.options
        opts: Any = options
        if model is None or not isinstance(options, model):
            raw = options.model_dump() if isinstance(options, BaseModel) else dict(options or {})
            opts = raw  # a legacy plug-in of a kind without a default model gets the mapping
            if model is not None:
                try:
                    opts = model.model_validate(raw)
                except ValidationError as exc:
                    where = f"{self.kind} {name!r}"
                    raise validation_error(exc, cls=self._error, context=where) from None
        if info.legacy and self._legacy is not None:
            warnings.warn(
                f"{self.kind} {name!r} ({info.origin}) uses a deprecated factory convention; "
                "declare an options model (register(..., options=Model), or Options and "
                "from_options on the class): see docs/design/0181-one-factory-convention.md",
                DeprecationWarning,
                stacklevel=2,
            )
            return self._legacy(info.factory, opts)
        return info.factory(opts)


def positional_arity(factory: Callable[..., object]) -> int:
    """How many positional parameters ``factory`` requires (for kinds whose legacy
    convention differs from ``factory(options)`` by its arity)."""
    try:
        params = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return 1
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return sum(1 for p in params if p.kind in kinds and p.default is inspect.Parameter.empty)


def _options_model(kind: str, name: str, model: type[Any]) -> type[BaseModel]:
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise PluginError(f"{kind} {name!r}: its options model must be a pydantic model")
    return model


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
