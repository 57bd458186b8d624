"""The plug-in kernel: one registry type, entry points loaded once, duplicates refused,
scoped registration, typed options, and a contract over every registered name."""

from __future__ import annotations

from importlib.metadata import EntryPoint
from typing import Any

import pytest
from pydantic import BaseModel

import jbgrade.behaviours
import jbgrade.harness
import jbgrade.judges
import jbgrade.policy
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


KINDS = ["target", "attack", "judge", "behaviour-format", "policy-profile"]
CONTRACT = [(k, n) for k in sorted(plugin_kinds()) for n in plugin_kinds()[k].names()]


@pytest.mark.parametrize(("kind", "name"), CONTRACT, ids=[f"{k}:{n}" for k, n in CONTRACT])
def test_every_registered_plugin_has_a_callable_factory(kind: str, name: str) -> None:
    info = plugin_registry(kind).info(name)
    assert info.name == name and callable(info.factory)
    assert info.origin == "builtin" or info.origin.startswith("entry-point:")


def test_every_kind_is_listed() -> None:
    assert set(KINDS) <= set(plugin_kinds())


@pytest.mark.parametrize(
    "name", jbgrade.behaviours.BEHAVIOUR_FORMATS.names(), ids=lambda n: f"behaviour-format:{n}"
)
def test_every_behaviour_format_builds_a_reader_from_its_options(name: str) -> None:
    reader = jbgrade.behaviours.BEHAVIOUR_FORMATS.create(name, {})
    assert isinstance(reader, jbgrade.behaviours.BehaviourReader)
    assert plugin_registry("behaviour-format").info(name).options is (
        jbgrade.behaviours.FormatOptions
    )


@pytest.mark.parametrize(
    "name", jbgrade.policy.PROFILES.names(), ids=lambda n: f"policy-profile:{n}"
)
def test_every_policy_profile_loads_under_its_name(name: str) -> None:
    prof = jbgrade.policy.PROFILES.create(name, {})
    assert prof.id == name and prof.bundle_sha256
    assert jbgrade.policy.load_profile(name) is prof or jbgrade.policy.load_profile(name) == prof


def test_a_third_party_behaviour_format_loads_like_a_builtin(tmp_path: Any) -> None:
    from jbgrade.behaviours import BEHAVIOUR_FORMATS, FormatOptions, load_behaviours
    from jbgrade.records import Behaviour

    class Upper:
        def __init__(self, opts: FormatOptions) -> None:
            self.domain = opts.default_domain or "G"

        def read(self, text: str, path: str, source: str) -> list[Behaviour]:
            return [
                Behaviour(
                    id=f"u{i}", domain=self.domain, category="c", text=t.upper(), source=source
                )
                for i, t in enumerate(text.split())
            ]

    f = tmp_path / "b.words"
    f.write_text("alpha beta\n")
    with BEHAVIOUR_FORMATS.scoped("upper-words", Upper):
        got = load_behaviours(f, format="upper-words", default_domain="S")
    assert [(b.text, b.domain) for b in got] == [("ALPHA", "S"), ("BETA", "S")]
    with pytest.raises(InputError, match="unknown format 'upper-words'"):
        load_behaviours(f, format="upper-words")
