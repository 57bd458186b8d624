"""The plug-in kernel: one registry type, entry points loaded once, duplicates refused,
scoped registration, typed options, and a contract over every registered name."""

from __future__ import annotations

from importlib.metadata import EntryPoint
from typing import Any

import pytest
from pydantic import BaseModel

import jbgrade.harness
import jbgrade.judges  # noqa: F401 - registers judges
from jbgrade import InputError, PluginError
from jbgrade._plugins import PluginRegistry, plugin_kinds, plugin_registry


class Opts(BaseModel):
    size: int = 1


def _make(opts: Any) -> tuple[str, Any]:
    return ("made", opts)


def _fake_eps(monkeypatch: pytest.MonkeyPatch, group: str, eps: list[EntryPoint]) -> list[int]:
    calls = [0]

    def fake(*, group: str) -> list[EntryPoint]:
        calls[0] += 1
        return eps if group == want else []

    want = group
    monkeypatch.setattr("jbgrade._plugins.entry_points", fake)
    return calls


def test_register_get_create_with_typed_options() -> None:
    reg: PluginRegistry[Any] = PluginRegistry("test-kind-a", "jbgrade.test-a")
    reg.register("x", options=Opts)(_make)
    assert reg.names() == ["x"] and "x" in reg
    assert reg.create("x", {"size": 3}) == ("made", Opts(size=3))
    with pytest.raises(ValueError, match="size"):
        reg.create("x", {"size": "big"})
    with pytest.raises(InputError, match="unknown test-kind-a type 'y'; known: x"):
        reg.get("y")
    assert plugin_registry("test-kind-a") is reg


def test_duplicate_registration_is_an_error() -> None:
    reg: PluginRegistry[Any] = PluginRegistry("test-kind-b", "jbgrade.test-b")
    reg.add("x", _make)
    reg.add("x", _make)  # the same factory again (a module imported twice) is fine
    with pytest.raises(PluginError, match="already registered"):
        reg.add("x", lambda o: o)


def test_entry_points_load_once_and_may_not_shadow_builtins(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ep = EntryPoint("third", "tests.test_plugins:_make", "jbgrade.test-c")
    calls = _fake_eps(monkeypatch, "jbgrade.test-c", [ep])
    reg: PluginRegistry[Any] = PluginRegistry("test-kind-c", "jbgrade.test-c")
    assert reg.get("third") is _make
    reg.names()
    reg.get("third")
    assert calls == [1]
    clash = EntryPoint("x", "tests.test_plugins:Opts", "jbgrade.test-d")
    _fake_eps(monkeypatch, "jbgrade.test-d", [clash])
    dup: PluginRegistry[Any] = PluginRegistry("test-kind-d", "jbgrade.test-d")
    dup.add("x", _make)
    with pytest.raises(PluginError, match="entry-point"):
        dup.names()


def test_scoped_registration_ends_with_the_block() -> None:
    reg: PluginRegistry[Any] = PluginRegistry("test-kind-e", "jbgrade.test-e")
    with reg.scoped("tmp", _make):
        assert reg.get("tmp") is _make
    assert "tmp" not in reg


def test_third_party_judge_via_entry_point(monkeypatch: pytest.MonkeyPatch) -> None:
    from jbgrade.judges import JUDGES, build_judge

    ep = EntryPoint("third-refusal", "jbgrade.judges:RefusalJudge", "jbgrade.judges")
    monkeypatch.setattr(JUDGES, "_loaded", False)
    monkeypatch.setattr(JUDGES, "_plugins", dict(JUDGES._plugins))
    _fake_eps(monkeypatch, "jbgrade.judges", [ep])
    j = build_judge({"type": "third-refusal"})
    assert type(j).__name__ == "RefusalJudge"


KINDS = ["target", "attack", "judge"]
CONTRACT = [(k, n) for k in KINDS for n in plugin_kinds()[k].names()]


@pytest.mark.parametrize(("kind", "name"), CONTRACT, ids=[f"{k}:{n}" for k, n in CONTRACT])
def test_every_registered_plugin_has_a_callable_factory(kind: str, name: str) -> None:
    info = plugin_registry(kind).info(name)
    assert info.name == name and callable(info.factory)
    assert info.origin == "builtin" or info.origin.startswith("entry-point:")


def test_every_kind_is_listed() -> None:
    assert set(KINDS) <= set(plugin_kinds())
