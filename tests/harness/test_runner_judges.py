"""The runner's judge selection: capabilities, not classes; combination is the ensemble's.

A third party's judge, registered in a test scope (the plug-in kernel's
``scoped``), gets exactly the fast path a built-in gets, and an ensemble's
declared rule and threshold decide - the runner only records its verdicts.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from pydantic import BaseModel, ConfigDict

from jbgrade import InputError
from jbgrade.harness import AttemptStore, build_plan, parse_spec, read_attempts, run_campaign
from jbgrade.judges import JUDGES, MemberVerdicts, RefusalJudge, SyncJudge
from jbgrade.records import Behaviour, ChatMessage, Verdict

from .conftest import EXAMPLES

SPEC = f"""\
name: judges
seeds: [1]
samples: 1
targets:
  - id: ref
    type: reference
    config_file: {EXAMPLES / "reference-target.yaml"}
attacks: [roleplay]
behaviours:
  - {{source: canary, limit: 4}}
judges: JUDGES
combine: COMBINE
"""


class ThirdPartyOptions(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    value: float = 0.6


class ThirdPartySyncJudge:
    """Not a jbgrade class: declares the no-I/O capability by defining judge_now, and
    follows the one factory convention (``Options`` + ``from_options``, design 0181)."""

    calls: ClassVar[dict[str, int]] = {"now": 0, "async": 0}
    Options = ThirdPartyOptions

    @classmethod
    def from_options(cls, opts: ThirdPartyOptions) -> ThirdPartySyncJudge:
        return cls(opts.value)

    def __init__(self, value: float = 0.6) -> None:
        self.value = value

    @property
    def name(self) -> str:
        return "third-sync"

    def spec(self) -> dict[str, Any]:
        return {"type": "third-sync", "value": self.value}

    def judge_now(
        self, behaviour: Behaviour, messages: list[ChatMessage], response: str
    ) -> Verdict:
        type(self).calls["now"] += 1
        return Verdict(
            judge="third-sync",
            spec=self.spec(),
            success=True,
            value=self.value,
            explanation="third-party rubric",
            scores={"specificity": 4.0},
        )

    async def judge(
        self, behaviour: Behaviour, messages: list[ChatMessage], response: str
    ) -> Verdict:
        type(self).calls["async"] += 1
        return self.judge_now(behaviour, messages, response)

    async def aclose(self) -> None:
        return None


@pytest.fixture
def third_party() -> Iterator[type[ThirdPartySyncJudge]]:
    ThirdPartySyncJudge.calls = {"now": 0, "async": 0}
    with JUDGES.scoped("third-sync", ThirdPartySyncJudge):
        yield ThirdPartySyncJudge


async def _run(directory: Path, judges: str, combine: str = "all") -> list[Any]:
    plan = build_plan(
        parse_spec(SPEC.replace("JUDGES", judges).replace("COMBINE", combine)), Path(".")
    )
    store = AttemptStore.open(directory, plan.manifest(), resume=False)
    try:
        await run_campaign(plan, store)
    finally:
        store.close()
        await plan.aclose()
    return [a for a in read_attempts(directory) if a.status == "ok"]


def test_capabilities_are_declared_not_class_checks() -> None:
    assert isinstance(RefusalJudge(), SyncJudge)
    assert isinstance(ThirdPartySyncJudge(), SyncJudge)
    assert not isinstance(ThirdPartySyncJudge(), MemberVerdicts)


async def test_a_third_party_judge_gets_the_builtin_fast_path(
    tmp_path: Path, third_party: type[ThirdPartySyncJudge]
) -> None:
    ok = await _run(tmp_path / "c", "[{type: third-sync}]")
    assert ok
    # Every verdict came through judge_now: no coroutine per attempt, as for refusal.
    assert third_party.calls == {"now": len(ok), "async": 0}
    assert all([v.judge for v in a.verdicts] == ["third-sync"] for a in ok)
    assert all(a.success is True for a in ok)


async def test_the_ensemble_combines_and_the_runner_records_every_verdict(
    tmp_path: Path, third_party: type[ThirdPartySyncJudge]
) -> None:
    ok = await _run(tmp_path / "c", "[{type: refusal}, {type: third-sync}]", "gated")
    assert ok
    for a in ok:
        names = [v.judge for v in a.verdicts]
        final = a.verdicts[-1]
        assert names[0] == "refusal" and names[-1] == "ensemble"
        assert final.spec["rule"] == "gated" and final.spec["threshold"] == 0.5
        # The gate stops refusals before the rubric is asked; otherwise the
        # rubric's 0.6 passes the ensemble's threshold.
        assert names == (
            ["refusal", "ensemble"]
            if a.verdicts[0].refused
            else ["refusal", "third-sync", "ensemble"]
        )
        assert a.success == (not a.verdicts[0].refused)
        assert final.scores.get("specificity") == (None if a.verdicts[0].refused else 4.0)


async def test_an_ensemble_judge_keeps_its_threshold(
    tmp_path: Path, third_party: type[ThirdPartySyncJudge]
) -> None:
    strict = (
        "[{type: ensemble, rule: gated, threshold: 0.7,"
        " judges: [{type: refusal}, {type: third-sync}]}]"
    )
    ok = await _run(tmp_path / "c", strict)
    passed = [a for a in ok if not a.verdicts[0].refused]
    assert passed, "the reference target answered none of the attempts"
    for a in passed:
        assert [v.judge for v in a.verdicts] == ["refusal", "third-sync", "ensemble"]
        assert a.verdicts[-1].spec["threshold"] == 0.7
        assert a.success is False  # 0.6 < 0.7: the runner no longer drops the threshold


def test_a_gated_rule_over_three_judges_is_bad_input(third_party: type[Any]) -> None:
    text = SPEC.replace("JUDGES", "[{type: refusal}, {type: third-sync}, {type: refusal}]")
    with pytest.raises(InputError, match="gated"):
        build_plan(parse_spec(text.replace("COMBINE", "gated")), Path("."))
