"""Running a case's campaign and reading its evidence.

The campaign directory is the harness's append-only store, so running
``assess`` again resumes where it stopped, and a failure (a dead target, a
spent budget, an interrupt) still leaves every completed attempt for the
evidence: the report is then built from them and marked incomplete.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from jbgrade._errors import CaseFileError, InputError
from jbgrade.assess._case import LoadedCase
from jbgrade.assess._records import CampaignInfo, EvidenceView
from jbgrade.evidence import Evidence, load_campaign_evidence
from jbgrade.harness import (
    AttemptStore,
    CampaignSpec,
    QuietReporter,
    Reporter,
    build_plan,
    load_spec,
    run_campaign,
    spec_from_doc,
)

__all__ = ["evidence_view", "measure_case", "view_of_evidence"]


def _spec(loaded: LoadedCase) -> tuple[CampaignSpec, Path, str]:
    c = loaded.case.campaign
    assert c is not None
    if c.ref is not None:
        path = loaded.resolve(c.ref)
        return load_spec(path), path.parent, str(path)
    assert c.spec is not None
    # The harness's own validation, on the case file's document: same reading, same errors.
    spec = spec_from_doc(loaded.doc, ("campaign", "spec"), cls=CaseFileError)
    return spec, loaded.base, f"{loaded.path} campaign.spec"


def _pick_attack(loaded: LoadedCase, ev: Evidence) -> str:
    names = [a.attack for a in ev.attacks]
    c = loaded.case.campaign
    want = c.attack if c is not None else None
    if want is not None:
        if want not in names:
            raise loaded.doc.error(
                f"the campaign has no attack {want!r} (attacks: {', '.join(names) or 'none'})",
                ("campaign", "attack"),
                cls=CaseFileError,
            )
        return want
    jb = loaded.case.jailbreak.attack
    if jb is not None and jb.name in names:
        return jb.name
    if len(names) == 1:
        return names[0]
    raise loaded.doc.error(
        f"the campaign runs several attacks ({', '.join(names)}): say which is this jailbreak",
        ("campaign",),
        cls=CaseFileError,
    )


def evidence_view(loaded: LoadedCase, ev: Evidence) -> EvidenceView | None:
    """The case's jailbreak's evidence, as a report shows it (None: nothing measured)."""
    if not ev.attacks:
        return None
    return view_of_evidence(ev, _pick_attack(loaded, ev))


def view_of_evidence(ev: Evidence, attack: str | None = None) -> EvidenceView | None:
    """One attack's evidence as reports (and the web UI) show it.

    ``attack`` may be omitted when the evidence has one attack. None when the
    evidence holds no attack at all.
    """
    if not ev.attacks:
        return None
    ae = ev.attack(attack)
    notes = list(ev.notes)
    for key, dm in ae.metrics.items():
        if dm.value is None:
            why = " ".join(dm.explanation.split()).removeprefix("not derived:").strip()
            notes.append(f"{key} not derived ({dm.rule}): {why}")
    return EvidenceView(campaign=ev.campaign or "", counts=ev.counts, attack=ae, notes=notes)


def _load(loaded: LoadedCase, directory: Path) -> EvidenceView | None:
    try:
        ev = load_campaign_evidence(directory)
    except InputError:
        return None  # nothing was stored (the failure came before the first attempt)
    return evidence_view(loaded, ev)


def measure_case(
    loaded: LoadedCase, directory: Path, *, reporter: Reporter | None = None
) -> tuple[CampaignInfo, EvidenceView | None]:
    """Run (or resume) the case's campaign in ``directory``; read its evidence.

    A campaign given as finished ``results`` is read, not run.
    """
    c = loaded.case.campaign
    assert c is not None
    if c.results is not None:
        d = loaded.resolve(c.results)
        ev = load_campaign_evidence(d)
        return CampaignInfo(status="reused", directory=str(d)), evidence_view(loaded, ev)
    spec, base, where = _spec(loaded)
    plan = build_plan(spec, base, where)
    manifest = plan.manifest()
    spec_sha = manifest.spec_hash
    # Always resume: re-running assess continues a campaign and never repeats work.
    store = AttemptStore.open(directory, manifest, resume=True)
    t0 = time.perf_counter()
    failure: str | None = None

    async def go() -> Any:
        try:
            return await run_campaign(
                plan, store, reporter=reporter or QuietReporter(), campaign=manifest.campaign
            )
        finally:
            await plan.aclose()

    try:
        summary = asyncio.run(go())
        if summary.outcome != "completed" or summary.remaining > 0:
            failure = (
                f"campaign stopped ({summary.outcome}) with {summary.remaining} of "
                f"{summary.planned} attempts not run"
            )
        elif summary.completed and summary.errors == summary.completed:
            reasons = ", ".join(f"{k} ({v})" for k, v in summary.error_reasons.items())
            failure = f"every attempt of this run failed: {reasons or 'see the campaign log'}"
    except KeyboardInterrupt:
        failure = "campaign interrupted"
    except Exception as exc:  # any failure: keep what was completed
        failure = f"{type(exc).__name__}: {exc}"
    finally:
        store.close()
    info = CampaignInfo(
        status="failed" if failure else "complete",
        directory=str(directory),
        spec_sha256=spec_sha,
        message=failure,
        duration_s=round(time.perf_counter() - t0, 3),
    )
    return info, _load(loaded, directory)
