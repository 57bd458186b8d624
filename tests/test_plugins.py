"""The plug-in kernel: one registry type, entry points loaded once, duplicates refused,
scoped registration, typed options, and a contract over every registered name."""

from __future__ import annotations

import asyncio
import os
from importlib.metadata import EntryPoint
from typing import Any

import pytest
from pydantic import BaseModel

import jbgrade.behaviours
import jbgrade.chat
import jbgrade.harness
import jbgrade.interop
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
    reg: PluginRegistry[Any] = PluginRegistry("test-kind-b", "jbgrade.test-b", options=Opts)
    reg.add("x", _make)
    reg.add("x", _make)  # the same factory again (a module imported twice) is fine
    with pytest.raises(PluginError, match="already registered"):
        reg.add("x", lambda o: o)


def test_entry_points_load_once_and_may_not_shadow_builtins(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ep = EntryPoint("third", "tests.test_plugins:_make", "jbgrade.test-c")
    calls = _fake_eps(monkeypatch, "jbgrade.test-c", [ep])
    reg: PluginRegistry[Any] = PluginRegistry("test-kind-c", "jbgrade.test-c", options=Opts)
    assert reg.get("third") is _make
    reg.names()
    reg.get("third")
    assert calls == [1]
    clash = EntryPoint("x", "tests.test_plugins:Opts", "jbgrade.test-d")
    _fake_eps(monkeypatch, "jbgrade.test-d", [clash])
    dup: PluginRegistry[Any] = PluginRegistry("test-kind-d", "jbgrade.test-d", options=Opts)
    dup.add("x", _make)
    with pytest.raises(PluginError, match="entry-point"):
        dup.names()


def test_a_plugin_without_an_options_model_is_refused() -> None:
    reg: PluginRegistry[Any] = PluginRegistry("test-kind-g", "jbgrade.test-g")
    with pytest.raises(PluginError, match=r"test-kind-g 'x' .* declares no options model"):
        reg.add("x", _make)
    reg.add("y", _make, options=Opts)
    assert reg.create("y", {}) == ("made", Opts())


def test_scoped_registration_ends_with_the_block() -> None:
    reg: PluginRegistry[Any] = PluginRegistry("test-kind-e", "jbgrade.test-e", options=Opts)
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


KINDS = [
    "target",
    "attack",
    "judge",
    "behaviour-format",
    "policy-profile",
    "exporter",
    "importer",
    "chat-model",
]
CONTRACT = [(k, n) for k in sorted(plugin_kinds()) for n in plugin_kinds()[k].names()]
_IDS = [f"{k}:{n}" for k, n in CONTRACT]

#: Options that build each registered plug-in (the contract needs one per name: a
#: plug-in added without an example fails ``test_every_plugin_builds_...``).
_REF = {"id": "t", "type": "reference"}
EXAMPLES: dict[tuple[str, str], dict[str, Any]] = {
    ("target", "reference"): {"target": _REF},
    ("target", "openai"): {
        "target": {"id": "t", "type": "openai", "base_url": "http://127.0.0.1:9/v1", "model": "m"}
    },
    ("target", "transformers"): {
        "target": {
            "id": "t",
            "type": "transformers",
            "options": {
                "random_config": {
                    "model_type": "gpt2",
                    "n_layer": 1,
                    "n_head": 2,
                    "n_embd": 16,
                    "vocab_size": 300,
                    "n_positions": 64,
                }
            },
        }
    },
    ("chat-model", "target"): {"target": _REF},
    ("chat-model", "openai"): {"base_url": "http://127.0.0.1:9/v1", "model": "m"},
    ("judge", "refusal"): {},
    ("judge", "strongreject"): {"base_url": "http://127.0.0.1:9/v1", "model": "m"},
    ("judge", "harmbench"): {"base_url": "http://127.0.0.1:9/v1", "model": "m"},
    ("judge", "ensemble"): {"rule": "any", "judges": [{"type": "refusal"}]},
}
for _k in ("behaviour-format", "exporter", "importer", "policy-profile"):
    for _n in plugin_kinds()[_k].names():
        EXAMPLES[(_k, _n)] = {}


def _needs_local_extra() -> None:
    """Skip unless the 'local' extra (torch, transformers) is installed; CI requires it
    where torch's wheel is on disk (JBGRADE_REQUIRE_LOCAL=1), as tests/harness/test_local.py."""
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError:
        if os.environ.get("JBGRADE_REQUIRE_LOCAL") == "1":
            raise
        pytest.skip("the 'local' extra (torch, transformers) is not installed")


def _protocol(kind: str) -> type:
    from jbgrade.behaviours import BehaviourReader
    from jbgrade.chat import ChatModel
    from jbgrade.harness import Attack, Target
    from jbgrade.judges import Judge
    from jbgrade.policy import Profile

    return {
        "target": Target,
        "attack": Attack,
        "judge": Judge,
        "behaviour-format": BehaviourReader,
        "policy-profile": Profile,
        "chat-model": ChatModel,
    }.get(kind, object)


@pytest.mark.parametrize(("kind", "name"), CONTRACT, ids=_IDS)
def test_every_registered_plugin_follows_the_one_factory_convention(kind: str, name: str) -> None:
    """Design 0181: a factory ``factory(options)`` with a typed options model that is
    frozen, forbids unknown fields and documents itself (JSON schema); no built-in
    uses a deprecated convention."""
    info = plugin_registry(kind).info(name)
    assert info.name == name and callable(info.factory)
    assert info.origin == "builtin" or info.origin.startswith("entry-point:")
    assert not info.legacy, f"{kind} {name!r} uses a deprecated factory convention"
    model = info.options
    assert model is not None and issubclass(model, BaseModel)
    assert model.model_config.get("frozen") is True
    assert model.model_config.get("extra") == "forbid"
    schema = model.model_json_schema()
    assert schema["type"] == "object"


@pytest.mark.parametrize(("kind", "name"), CONTRACT, ids=_IDS)
def test_every_plugin_builds_from_its_options_and_refuses_an_unknown_one(
    kind: str, name: str
) -> None:
    reg = plugin_registry(kind)
    example = EXAMPLES.get((kind, name))
    assert example is not None, f"add a contract example for {kind} {name!r}"
    if (kind, name) == ("target", "transformers"):
        _needs_local_extra()
    plugin = reg.create(name, example)
    assert isinstance(plugin, _protocol(kind)), f"{kind} {name!r} built {plugin!r}"
    if kind in ("exporter", "importer"):
        assert callable(plugin)
    close = getattr(plugin, "aclose", None)
    if close is not None:
        asyncio.run(close())
    with pytest.raises(InputError) as ei:
        reg.create(name, {**example, "no_such_option_x": 1})
    assert ei.value.field == "no_such_option_x" and name in str(ei.value)


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


def test_a_plugin_declares_its_options_on_the_class_or_the_function() -> None:
    reg: PluginRegistry[Any] = PluginRegistry(
        "test-kind-f", "jbgrade.test-f", legacy=lambda f, o: f(**o)
    )

    class Thing:
        Options = Opts

        def __init__(self, size: int) -> None:
            self.size = size

        @classmethod
        def from_options(cls, opts: Opts) -> Thing:
            return cls(opts.size * 10)

    def make(opts: Opts) -> tuple[str, int]:
        return ("fn", opts.size)

    make.Options = Opts  # type: ignore[attr-defined]
    reg.add("cls", Thing)
    reg.add("cls", Thing)  # the same class again (a module imported twice) is fine
    reg.add("fn", make)
    assert reg.create("cls", {"size": 2}).size == 20
    assert reg.create("fn", {"size": 3}) == ("fn", 3)
    assert not reg.info("cls").legacy and reg.info("cls").options is Opts
    reg.add("old", lambda size=1: ("old", size))
    assert reg.info("old").legacy
    with pytest.warns(DeprecationWarning, match="test-kind-f 'old'.*deprecated"):
        assert reg.create("old", {"size": 4}) == ("old", 4)


def test_a_legacy_target_factory_still_builds_with_a_deprecation_warning() -> None:
    from jbgrade.harness import TARGETS, TargetSpec, build_target
    from jbgrade.harness._reference import ReferenceTarget

    seen: list[Any] = []

    def old_style(spec: TargetSpec, base_dir: Any) -> ReferenceTarget:
        seen.append(base_dir)
        return ReferenceTarget(spec.model_copy(update={"type": "reference"}), base_dir)

    with TARGETS.scoped("old-style-target", old_style):
        assert TARGETS.info("old-style-target").legacy
        with pytest.warns(DeprecationWarning, match="target 'old-style-target'"):
            t = build_target(TargetSpec(id="t", type="old-style-target"))
    assert t.info.id == "t" and len(seen) == 1
    with TARGETS.scoped("new-style-target", lambda o: old_style(o.target, o.base_path)):
        assert not TARGETS.info("new-style-target").legacy  # one argument: the options


@pytest.mark.parametrize("name", jbgrade.harness.TARGETS.names(), ids=lambda n: f"target:{n}")
def test_every_target_type_validates_its_own_settings(name: str) -> None:
    """``target.options`` is validated by the type's settings model: an unknown key is
    an error naming ``targets.ID.options.KEY`` (it used to be ignored)."""
    example = EXAMPLES[("target", name)]
    spec = {**example["target"]}
    spec["options"] = {**spec.get("options", {}), "no_such_setting": 1}
    with pytest.raises(InputError) as ei:
        jbgrade.harness.TARGETS.create(name, {"target": spec})
    assert ei.value.field == "targets.t.options.no_such_setting"


def test_a_transformers_target_needs_exactly_one_model_source() -> None:
    spec = {"id": "t", "type": "transformers", "options": {}}
    with pytest.raises(InputError, match="exactly one of model_dir and random_config") as ei:
        jbgrade.harness.TARGETS.create("transformers", {"target": spec})
    assert ei.value.field == "targets.t.options"
