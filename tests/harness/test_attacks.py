"""Attacks: bundled YAML mechanics, transforms, multi-turn scripts and plug-ins."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from jbgrade import InputError
from jbgrade._base import FrozenRecord
from jbgrade.harness import (
    ATTACKS,
    Attack,
    AttackRun,
    BaselineAttack,
    ChatFn,
    TargetReply,
    attack_from_spec,
    bundled_attacks,
    load_attack,
)
from jbgrade.records import Behaviour, ChatMessage

from .conftest import bad_input_line, campaign_run

B = Behaviour(id="b", domain="S", category="fraud", text="[canary] placeholder P-1", source="t")


def _echo_chat(log: list[list[ChatMessage]]) -> ChatFn:
    async def chat(messages: list[ChatMessage]) -> TargetReply:
        log.append(list(messages))
        return TargetReply(text=f"reply {len(log)}")

    return chat


@pytest.mark.parametrize("name", bundled_attacks())
async def test_every_bundled_attack_honours_the_contract(name: str) -> None:
    attack = load_attack(name)
    assert isinstance(attack, Attack)
    assert attack.id == name
    assert attack.tags
    assert attack.spec()["id"] == name
    log: list[list[ChatMessage]] = []
    run = await attack.run(B, _echo_chat(log))
    assert isinstance(run, AttackRun)
    assert run.messages == log[-1]
    assert run.messages[-1].role == "user"
    assert run.reply.text == f"reply {len(log)}"


async def test_transforms_and_template() -> None:
    b64 = load_attack("base64")
    msgs = (await b64.run(B, _echo_chat([]))).messages
    encoded = msgs[0].content.splitlines()[-1]
    assert base64.b64decode(encoded).decode() == B.text
    leet = load_attack("leetspeak")
    text = (await leet.run(B, _echo_chat([]))).messages[0].content
    assert text == "[c4n4ry] pl4c3h0ld3r p-1"
    a = attack_from_spec(
        {"id": "t", "system": "sys {category}", "template": "{domain}: {behaviour}", "tags": ["x"]}
    )
    msgs = (await a.run(B, _echo_chat([]))).messages
    assert [m.role for m in msgs] == ["system", "user"]
    assert msgs[0].content == "sys fraud"
    assert msgs[1].content == f"S: {B.text}"
    assert a.kind == "template"
    assert load_attack("base64").kind == "transform"


async def test_multi_turn_appends_replies_and_stops_on_block() -> None:
    mt = load_attack("fiction-escalation")
    log: list[list[ChatMessage]] = []
    run = await mt.run(B, _echo_chat(log))
    assert run.turns == 2
    assert [m.role for m in run.messages] == ["user", "assistant", "user"]
    assert run.messages[1].content == "reply 1"
    assert B.text in run.messages[2].content

    async def blocking(messages: list[ChatMessage]) -> TargetReply:
        return TargetReply(text="blocked", status="blocked", stopped_by="input_classifier")

    run = await mt.run(B, blocking)
    assert run.turns == 1


async def test_baseline_sends_the_behaviour_as_is() -> None:
    run = await BaselineAttack().run(B, _echo_chat([]))
    assert run.messages == [ChatMessage(role="user", content=B.text)]


class UpperOptions(FrozenRecord):
    suffix: str = ""


class Upper:
    id = "upper-plugin"
    tags = ("case",)
    kind = "template"

    def __init__(self, suffix: str) -> None:
        self.suffix = suffix

    def spec(self) -> dict[str, Any]:
        return {"id": self.id, "suffix": self.suffix}

    async def run(self, behaviour: Behaviour, chat: ChatFn) -> AttackRun:
        msgs = [ChatMessage(role="user", content=behaviour.text.upper() + self.suffix)]
        return AttackRun(msgs, await chat(msgs))


async def test_python_plugin_registry(tmp_path: Path) -> None:
    # Scoped registration (plug-in kernel): registered for the block only, with its
    # options model (the one factory convention, design 0181).
    with ATTACKS.scoped("upper-plugin", lambda o: Upper(o.suffix), options=UpperOptions):
        a = load_attack("upper-plugin", options={"suffix": "!"})
        run = await a.run(B, _echo_chat([]))
        assert run.messages[0].content == B.text.upper() + "!"
        with pytest.raises(InputError, match="attack 'upper-plugin': unknown field") as ei:
            load_attack("upper-plugin", options={"sufix": "!"})
        assert ei.value.field == "sufix"
    assert "upper-plugin" not in ATTACKS.names()


def test_legacy_attack_factory_taking_a_mapping_is_deprecated() -> None:
    legacy = ATTACKS.scoped("upper-plugin", lambda o: Upper(o.get("suffix", "")))
    with legacy, pytest.warns(DeprecationWarning, match="attack 'upper-plugin'"):
        a = load_attack("upper-plugin", options={"suffix": "?"})
    assert a.spec() == {"id": "upper-plugin", "suffix": "?"}


def test_bad_attack_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown attack 'nope'"):
        load_attack("nope")
    f = tmp_path / "a.yaml"
    f.write_text("id: x\ntransforms: [rot99]\n")
    with pytest.raises(InputError, match="unknown transform 'rot99'"):
        load_attack(str(f))
    f.write_text("id: x\nkind: multi_turn\n")
    with pytest.raises(InputError, match="needs turns"):
        load_attack(str(f))
    f.write_text("id: x\n  bad: [\n")
    with pytest.raises(InputError, match=r"a.yaml:2: invalid YAML"):
        load_attack(str(f))
    with pytest.raises(InputError, match="reserved"):
        attack_from_spec({"id": "baseline"})


def test_attack_file_errors_name_file_line_and_field(tmp_path: Path) -> None:
    f = tmp_path / "a.yaml"
    f.write_text("id: x\ntags: [a]\ntransforms:\n  - base64\n  - rot99\n")
    with pytest.raises(InputError) as ei:
        load_attack(str(f))
    assert (ei.value.path, ei.value.line, ei.value.field) == (str(f), 3, "transforms")
    f.write_text("id: x\nkind: multi_turn\nturns: []\n")
    with pytest.raises(InputError, match=r"a.yaml:1: \(top level\): a multi_turn attack needs"):
        load_attack(str(f))
    f.write_text("id: baseline\n")
    with pytest.raises(InputError, match=r"a.yaml:1: id: 'baseline' is reserved"):
        load_attack(str(f))


def test_attack_file_yes_no_stay_text(tmp_path: Path) -> None:
    f = tmp_path / "a.yaml"
    # PyYAML's YAML 1.1 read these as booleans, which no text field accepts.
    f.write_text("id: on\ndescription: no\ntags: [yes, off]\nsystem: n\ntemplate: y\n")
    a = load_attack(str(f))
    assert (a.id, a.tags) == ("on", ("yes", "off"))
    assert (a.spec()["description"], a.spec()["system"], a.spec()["template"]) == ("no", "n", "y")


def test_cli_duplicate_key_in_attack_file_exits_2(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text(
        "id: mine\ntemplate: 'first {behaviour}'\ntags: [style]\ntemplate: 'second {behaviour}'\n"
    )
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "name: dup-attack\ntargets: [{id: ref, type: reference}]\nattacks: [mine.yaml]\n"
        "behaviours: [{source: canary, limit: 1}]\n"
    )
    line = bad_input_line(campaign_run(spec, tmp_path / "o"))
    assert f"{tmp_path / 'mine.yaml'}:4: template: duplicate key 'template'" in line
