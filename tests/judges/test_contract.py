"""Contract tests over every built-in judge type, and entry-point plug-ins."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from jbgrade import JudgeSpecError
from jbgrade.judges import Judge, build_judge, judge_types
from jbgrade.records import Behaviour, Verdict, format_canary
from tests.judges.conftest import JudgeServer

B = Behaviour(id="b", domain="W", category="cyber", text="[canary] x", source="t", canary=True)
#: Every registered judge type (built-ins and installed entry points): each needs an example.
REGISTERED = judge_types()


def _examples(url: str) -> dict[str, dict[str, Any]]:
    sr = {"type": "strongreject", "base_url": url, "model": "reference-judge"}
    return {
        "refusal": {"type": "refusal"},
        "strongreject": sr,
        "harmbench": {"type": "harmbench", "base_url": url, "model": "reference-judge"},
        "ensemble": {"type": "ensemble", "rule": "gated", "judges": [{"type": "refusal"}, sr]},
    }


def test_every_registered_type_has_a_contract_example() -> None:
    assert {"refusal", "strongreject", "harmbench", "ensemble"} <= set(REGISTERED)
    assert set(REGISTERED) <= set(_examples("http://x")), "add a contract example"


@pytest.mark.parametrize("kind", REGISTERED)
async def test_judge_contract(kind: str, judge_server: JudgeServer) -> None:
    example = _examples(judge_server.base_url).get(kind)
    if example is None:
        pytest.fail(f"judge type {kind!r} has no contract example")
    j = build_judge(example)
    try:
        assert isinstance(j, Judge) and j.name == kind
        spec = j.spec()
        assert spec["type"] == kind
        assert build_judge(spec).spec() == spec  # rebuildable from its spec
        good = "Sure: [PLACEHOLDER] " + format_canary("W", "cyber", 4, 4)
        for response, success in ((good, True), ("I'm sorry, I can't help with that.", False)):
            v = await j.judge(B, [], response)
            assert isinstance(v, Verdict) and v.success is success
            assert v.spec == spec and v.explanation and 0.0 <= v.value <= 1.0
            assert v.error is None
    finally:
        await j.aclose()


def _install_fake_judge(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, module: str) -> None:
    (tmp_path / "jbg_fake_judge.py").write_text(module)
    dist = tmp_path / "jbg_fake_judge-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: jbg-fake-judge\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[jbgrade.judges]\nfake-ep = jbg_fake_judge:make\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    # Entry points are read once per process (plug-in kernel); a plug-in installed
    # after that is picked up by refresh().
    from jbgrade.judges import JUDGES

    JUDGES.refresh()


_FAKE = (
    "from pydantic import BaseModel, ConfigDict\n"
    "from jbgrade.judges import RefusalJudge\n"
    "class Fake(RefusalJudge):\n"
    "    @property\n"
    "    def name(self):\n"
    "        return 'fake-ep'\n"
)


def test_entry_point_plugin_is_found_and_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A third-party judge in the one factory convention: ``make(options)`` with its
    options model as ``make.Options``; a bad option names the field."""
    module = _FAKE + (
        "class Opts(BaseModel):\n"
        "    model_config = ConfigDict(frozen=True, extra='forbid')\n"
        "    extra_patterns: list[str] = []\n"
        "def make(opts):\n"
        "    return Fake(extra_patterns=opts.extra_patterns)\n"
        "make.Options = Opts\n"
    )
    _install_fake_judge(tmp_path, monkeypatch, module)
    try:
        assert "fake-ep" in judge_types()
        j = build_judge({"type": "fake-ep", "extra_patterns": ["^nope"]})
        assert j.name == "fake-ep"
        with pytest.raises(JudgeSpecError, match="fake-ep") as ei:
            build_judge({"type": "fake-ep", "colour": "red"})
        assert ei.value.field == "colour"
    finally:
        sys.modules.pop("jbg_fake_judge", None)


def test_legacy_keyword_factory_still_builds_with_a_deprecation_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 0.1-style entry point ``make(**params)`` keeps working, deprecated."""
    _install_fake_judge(tmp_path, monkeypatch, _FAKE + "def make(**kw):\n    return Fake(**kw)\n")
    try:
        with pytest.warns(DeprecationWarning, match="judge 'fake-ep'.*deprecated factory"):
            j = build_judge({"type": "fake-ep"})
        assert j.name == "fake-ep"
    finally:
        sys.modules.pop("jbg_fake_judge", None)
