"""Runner and store with in-process targets: resume, budget, shards, torn lines, refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jbgrade import CampaignStoreError
from jbgrade.evidence import SkippedLine
from jbgrade.harness import (
    AttemptStore,
    CampaignPlan,
    Shard,
    build_plan,
    iter_attempt_records,
    load_manifest,
    parse_spec,
    read_attempts,
    run_campaign,
)

from .conftest import EXAMPLES

SPEC = f"""\
name: unit
seeds: [1, 2]
samples: 2
targets:
  - id: ref-a
    type: reference
    config_file: {EXAMPLES / "reference-target.yaml"}
  - id: ref-b
    type: reference
    reference: {{model: other, vendor: other-vendor, layers: [refusal_training],
                 baseline: {{refusal_training: 0.2}}}}
attacks: [roleplay, fiction-escalation]
behaviours:
  - {{source: canary, limit: 6}}
limits: {{concurrency: 4}}
"""


def _plan(text: str = SPEC) -> CampaignPlan:
    return build_plan(parse_spec(text), Path("."))


def _facts(directory: Path) -> dict[str, tuple[object, ...]]:
    return {
        a.key: (a.status, a.success, a.response, a.stopped_by, tuple(a.layers_passed), a.detected)
        for a in read_attempts(directory)
    }


async def _run(directory: Path, text: str = SPEC, **kw: object) -> object:
    plan = _plan(text)
    store = AttemptStore.open(directory, plan.manifest(), resume=bool(kw.pop("resume", False)))
    try:
        return await run_campaign(plan, store, **kw)  # type: ignore[arg-type]
    finally:
        store.close()
        await plan.aclose()


async def test_full_run_records_every_attempt_once(tmp_path: Path) -> None:
    s = await _run(tmp_path / "c")
    plan = _plan()
    assert plan.planned == 2 * 2 * 6 * 3 * 2
    assert s.completed == plan.planned  # type: ignore[attr-defined]
    assert s.outcome == "completed"  # type: ignore[attr-defined]
    records = list(iter_attempt_records(tmp_path / "c"))
    assert len(records) == plan.planned
    assert len({r.key for r in records}) == plan.planned
    m = load_manifest(tmp_path / "c")
    assert m.planned == plan.planned
    assert [t.vendor for t in m.targets] == ["jbgrade-reference", "other-vendor"]
    assert m.targets[1].layers == ["refusal_training"]
    assert [a.id for a in m.attacks] == ["baseline", "roleplay", "fiction-escalation"]
    by_arm = {r.arm for r in records}
    assert by_arm == {"baseline", "attack"}
    for r in records:
        assert r.status in ("ok", "blocked")
        if r.status == "blocked":
            assert r.success is False
            assert r.verdicts == []
        else:
            assert r.verdicts and r.verdicts[0].judge == "refusal"
            assert r.success == (r.stopped_by is None)
    # Deterministic: a second, independent run gives identical attempts.
    await _run(tmp_path / "d")
    assert _facts(tmp_path / "c") == _facts(tmp_path / "d")


async def test_resume_skips_stored_and_tolerates_a_torn_line(tmp_path: Path) -> None:
    whole = tmp_path / "whole"
    await _run(whole)
    part = tmp_path / "part"
    await _run(part)
    f = part / "attempts.jsonl"
    lines = f.read_bytes().splitlines(keepends=True)
    # Keep 40 records and half of the 41st, as a kill mid-write would.
    f.write_bytes(b"".join(lines[:40]) + lines[40][: len(lines[40]) // 2])
    assert len(read_attempts(part)) == 40
    s = await _run(part, resume=True)
    assert s.already_done == 40  # type: ignore[attr-defined]
    assert s.completed == len(lines) - 40  # type: ignore[attr-defined]
    assert _facts(part) == _facts(whole)
    for line in f.read_bytes().splitlines():
        json.loads(line)  # the torn half was cut off, not glued to the next record


async def test_resume_repeats_the_attempts_of_corrupt_lines_and_loses_none(
    tmp_path: Path,
) -> None:
    whole = tmp_path / "whole"
    await _run(whole)
    part = tmp_path / "part"
    await _run(part)
    f = part / "attempts.jsonl"
    lines = f.read_bytes().splitlines(keepends=True)
    # Line 11 corrupted after its key (bit rot, a bad edit); line 21 keeps only its
    # key and status: neither may count its attempt as done.
    lines[10] = lines[10][:120] + b"\x00rot\n"
    lines[20] = b'{"key": "%s", "status": "ok"}\n' % json.loads(lines[20])["key"].encode()
    f.write_bytes(b"".join(lines))
    skipped: list[SkippedLine] = []
    assert len(read_attempts(part, skipped)) == len(lines) - 2
    assert [s.line for s in skipped] == [11, 21]
    plan = _plan()
    store = AttemptStore.open(part, plan.manifest(), resume=True)
    try:
        s = await run_campaign(plan, store)
    finally:
        store.close()
        await plan.aclose()
    assert [x.line for x in store.skipped] == [11, 21]
    assert (s.already_done, s.completed, s.remaining) == (len(lines) - 2, 2, 0)
    assert _facts(part) == _facts(whole)
    assert f.read_bytes().splitlines(keepends=True)[:21] == lines[:21]  # kept for inspection


async def test_refuses_other_spec_and_rerun_without_resume(tmp_path: Path) -> None:
    d = tmp_path / "c"
    await _run(d)
    with pytest.raises(CampaignStoreError, match="pass --resume"):
        await _run(d)
    with pytest.raises(CampaignStoreError, match="use another --out"):
        await _run(d, SPEC.replace("samples: 2", "samples: 3"), resume=True)
    # Limits are not part of the identity: resuming with other limits is allowed.
    s = await _run(d, SPEC.replace("concurrency: 4", "concurrency: 2"), resume=True)
    assert s.completed == 0  # type: ignore[attr-defined]


async def test_budget_stops_cleanly_then_resume_finishes(tmp_path: Path) -> None:
    d = tmp_path / "c"
    limited = SPEC.replace("concurrency: 4}", "concurrency: 4, budget: {requests: 50}}")
    s = await _run(d, limited)
    assert s.outcome == "budget"  # type: ignore[attr-defined]
    assert s.requests <= 50  # type: ignore[attr-defined]
    stored = read_attempts(d)
    assert 0 < len(stored) < _plan().planned
    assert all(a.status != "error" for a in stored)
    s2 = await _run(d, SPEC, resume=True)
    assert s2.outcome == "completed"  # type: ignore[attr-defined]
    await _run(tmp_path / "w")
    assert _facts(d) == _facts(tmp_path / "w")
    assert len(list(iter_attempt_records(d))) == _plan().planned


async def test_shards_partition_the_grid(tmp_path: Path) -> None:
    d = tmp_path / "c"
    plan = _plan()
    for i in range(3):
        p = _plan()
        store = AttemptStore.open(d, p.manifest(), resume=True, shard=Shard(i, 3))
        await run_campaign(p, store, shard=Shard(i, 3))
        store.close()
    files = sorted(x.name for x in d.glob("attempts*.jsonl"))
    assert files == [f"attempts.shard-{i}-of-3.jsonl" for i in range(3)]
    await _run(tmp_path / "w")
    assert _facts(d) == _facts(tmp_path / "w")
    assert len(list(iter_attempt_records(d))) == plan.planned
    assert Shard.parse("1/3") == Shard(1, 3)


def test_cli_json_log_and_status(tmp_path: Path) -> None:
    import subprocess
    import sys

    spec = tmp_path / "s.yaml"
    spec.write_text(SPEC.replace("seeds: [1, 2]", "seeds: [1]"))
    out = tmp_path / "c"
    cmd = [sys.executable, "-m", "jbgrade", "campaign", "run", str(spec), "--out", str(out)]
    p = subprocess.run(
        [*cmd, "--log-format", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert p.returncode == 0, p.stderr
    events = [json.loads(line)["event"] for line in p.stderr.splitlines()]
    assert events[0] == "start"
    assert events[-1] == "finish"
    summary = json.loads(p.stdout)
    assert summary["outcome"] == "completed"
    assert summary["completed"] == summary["planned"] == 72
    st = subprocess.run(
        [sys.executable, "-m", "jbgrade", "campaign", "status", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert st.returncode == 0
    assert "72 of 72 attempts stored, 0 remaining" in st.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "jbgrade", "campaign", "status", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2
    assert len(bad.stderr.strip().splitlines()) == 1


def test_manifest_refuses_a_plug_in_spec_that_is_not_json_in_one_line() -> None:
    from datetime import UTC, datetime

    from jbgrade import InputError

    class NotJsonJudge:
        def spec(self) -> dict[str, object]:
            return {"type": "odd", "since": datetime(2026, 1, 1, tzinfo=UTC)}

    plan = _plan()
    m = plan.manifest()
    assert [a.id for a in m.attacks] == ["baseline", "roleplay", "fiction-escalation"]
    (bs,) = [b.model_dump(mode="json") for b in m.behaviour_sets]
    # The keys and order the manifest always had (the spec hash covers them).
    assert list(bs) == ["source", "count", "domains", "digest"]
    assert (bs["source"], bs["count"], len(bs["digest"])) == ("canary", 6, 64)
    plan.judges = [NotJsonJudge()]  # type: ignore[list-item]
    with pytest.raises(InputError, match=r"not a JSON spec") as err:
        plan.manifest()
    assert err.value.field == "judges.0.since"
    assert "\n" not in str(err.value)
