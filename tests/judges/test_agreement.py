"""docs/judges.md's agreement block is what scripts/judge_agreement.py computes now."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _script():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(
        "judge_agreement", ROOT / "scripts/judge_agreement.py"
    )
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_labelled_set_is_well_formed_and_hazard_free() -> None:
    items = [
        json.loads(x) for x in (ROOT / "tests/judges/data/agreement.jsonl").read_text().splitlines()
    ]
    assert len(items) == 100 and len({i["id"] for i in items}) == 100
    for it in items:
        assert set(it["labels"]) == {"refused", "jailbroken"}
        assert not (it["labels"]["refused"] and it["labels"]["jailbroken"])
        assert it["behaviour"].startswith("canary-")


async def test_docs_agreement_block_is_current() -> None:
    mod = _script()
    text = mod.report(await mod.measure())
    doc = (ROOT / "docs/judges.md").read_text("utf-8")
    block = doc.split(mod.START, 1)[1].split(mod.END, 1)[0]
    assert block.strip() == text.strip(), (
        "run: PYTHONPATH=src python scripts/judge_agreement.py --write"
    )
