"""docs/plugins.md is executable: its example target and judge are installed as a
third-party distribution (modules on sys.path, entry points in a dist-info) and used
through jbgrade's own registries, so the how-to cannot drift from the code."""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from jbgrade import InputError, JudgeSpecError
from jbgrade.harness import TARGETS, TargetRequest, TargetSpec, build_target
from jbgrade.judges import JUDGES, SyncJudge, build_judge
from jbgrade.records import Behaviour, ChatMessage

DOC = Path(__file__).parents[1] / "docs" / "plugins.md"
_BLOCK = re.compile(r"```(python|toml)\n(.*?)```", re.S)


def _blocks() -> tuple[dict[str, str], str]:
    modules: dict[str, str] = {}
    entry_points: list[str] = []
    for lang, body in _BLOCK.findall(DOC.read_text("utf-8")):
        first = body.splitlines()[0]
        if lang == "python" and first.startswith("# my_jbgrade_plugins/"):
            modules[first.removeprefix("# ").strip()] = body
        elif lang == "toml":
            for line in body.splitlines():
                if line.startswith("[project.entry-points."):  # [project.entry-points."G"]
                    entry_points.append("[" + line.split('"')[1] + "]")
                elif " = " in line:  # name = "module:attr" (TOML string -> INI value)
                    entry_points.append(line.replace('"', ""))
    return modules, "\n".join(entry_points) + "\n"


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    modules, eps = _blocks()
    assert set(modules) == {"my_jbgrade_plugins/echo.py", "my_jbgrade_plugins/keyword.py"}
    pkg = tmp_path / "my_jbgrade_plugins"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    for rel, code in modules.items():
        (tmp_path / rel).write_text(code)
    dist = tmp_path / "my_jbgrade_plugins-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: my-jbgrade-plugins\n")
    (dist / "entry_points.txt").write_text(eps)
    monkeypatch.syspath_prepend(str(tmp_path))
    TARGETS.refresh()
    JUDGES.refresh()
    try:
        yield
    finally:
        for name in [m for m in sys.modules if m.startswith("my_jbgrade_plugins")]:
            del sys.modules[name]
        monkeypatch.undo()
        TARGETS.refresh()
        JUDGES.refresh()


def test_the_documented_target_builds_and_answers(installed: None) -> None:
    assert TARGETS.info("echo").origin.startswith("entry-point:")
    t = build_target(TargetSpec(id="e", type="echo", options={"prefix": "> "}))
    msgs = [ChatMessage(role="user", content="[canary] hello")]
    reply = asyncio.run(t.complete(msgs, TargetRequest(seed=1, timeout_s=5)))
    assert reply.text == "> [canary] hello" and t.info.model == "echo"
    with pytest.raises(InputError) as ei:
        build_target(TargetSpec(id="e", type="echo", options={"prefx": "> "}))
    assert ei.value.field == "targets.e.options.prefx"


def test_the_documented_judge_builds_rebuilds_and_gets_the_sync_fast_path(
    installed: None,
) -> None:
    j = build_judge({"type": "keyword", "keyword": "PLACEHOLDER"})
    assert isinstance(j, SyncJudge)  # declared by defining judge_now
    assert build_judge(j.spec()).spec() == j.spec()
    b = Behaviour(id="b", domain="G", category="c", text="[canary] x", source="t", canary=True)
    assert j.judge_now(b, [], "Sure: [PLACEHOLDER]").success is True
    assert j.judge_now(b, [], "I can't help with that.").success is False
    with pytest.raises(JudgeSpecError) as ei:
        build_judge({"type": "keyword"})
    assert ei.value.field == "keyword"
