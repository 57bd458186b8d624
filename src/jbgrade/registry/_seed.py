"""Bulk-create realistic cases fast (benchmarks, demos), with a valid audit chain.

The registry's own methods do one case per transaction with full checks; seeding
100,000 cases that way takes minutes. :func:`seed_cases` writes in batches with
multi-row INSERTs instead, but builds exactly the rows and audit entries the
service would (so ``jbgrade audit verify`` passes afterwards).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from jbgrade.registry._audit import entry_hash, state_hash
from jbgrade.registry._models import Assessment, AuditEntry, AuditHead, Case
from jbgrade.registry._service import Registry
from jbgrade.registry._util import canonical_json, new_id
from jbgrade.registry._views import Actor
from jbgrade.rubric import Grade, default_tables, grade

__all__ = ["SeedResult", "seed_cases"]

_WORDS = [
    "role-play",
    "persona",
    "override",
    "multilingual",
    "encoding",
    "suffix",
    "many-shot",
    "crescendo",
    "payload-splitting",
    "refusal-suppression",
    "hypothetical",
    "translation",
    "ascii-art",
    "cipher",
    "agent",
    "tool-use",
    "memory",
    "injection",
    "system-prompt",
    "leak",
    "grandma",
    "debug-mode",
]


@dataclass(frozen=True)
class SeedResult:
    """What :func:`seed_cases` made: actors to query as, and counts."""

    admin: Actor
    lab_assessor: Actor  # in the owning org of roughly 1/labs of the cases
    reporter: Actor  # in the reporting org of every case
    outsider: Actor  # a regulator with no relation to any case
    cases: int
    assessments: int


@dataclass(frozen=True)
class _Cast:
    """Who the seeded rows name: the labs, the reporting org and the acting users."""

    lab_ids: list[str]
    rep_org: str
    rep_user_id: str
    lab_user_id: str
    tag: str


_STATES = ("reported", "triaged", "assessed", "decided", "mitigating", "retested", "closed")

# One seeded row to insert and the audit entry the service would write for it:
# (actor id, action, the row as a model object, case id).
_AuditItem = tuple[str, str, Any, str]


def _case_row(
    rng: random.Random,
    cast: _Cast,
    *,
    i: int,
    ms: int,
    g: Grade | None,
    owner: str,
    now: datetime,
    embargoed_share: float,
) -> dict[str, Any]:
    """The ``cases`` row of seeded case ``i`` (draws from ``rng`` in a fixed order)."""
    created = datetime.fromtimestamp(ms / 1000, UTC)
    words = rng.sample(_WORDS, 3)
    return {
        "id": new_id("case", ms=ms),
        "title": f"{words[0].capitalize()} {words[1]} jailbreak #{i}",
        "summary": f"Synthetic seeded case using {words[2]} ({cast.tag}).",
        "affected_models": canonical_json([f"model-{rng.randrange(40)}"]),
        "affected_vendors": canonical_json([f"vendor-{cast.lab_ids.index(owner)}"]),
        "affected_deployments": canonical_json([]),
        "attack_description": "Synthetic seeded case: no real attack.",
        "payload_ct": None,
        "transcripts_ct": None,
        "embargo_until": now + timedelta(days=30) if rng.random() < embargoed_share else None,
        "reporting_org_id": cast.rep_org,
        "owning_org_id": owner,
        "reported_by": cast.rep_user_id,
        "state": rng.choice(_STATES) if g is not None else rng.choice(_STATES[:2]),
        "created_at": created,
        "updated_at": created,
        "score": g.score if g is not None else None,
        "rank_score": g.score if g is not None else -1.0,
        "severity": g.severity if g is not None else None,
        "domain": g.letters["HD"] if g is not None else None,
    }


def _assessment_row(cast: _Cast, case: dict[str, Any], ms: int, g: Grade) -> dict[str, Any]:
    """The ``assessments`` row of a seeded case's one assessment (by its owning lab)."""
    return {
        "id": new_id("asm", ms=ms),
        "case_id": case["id"],
        "org_id": case["owning_org_id"],
        "assessor_id": cast.lab_user_id,
        "version": 1,
        "supersedes_id": None,
        "vector": g.vector,
        "score": g.score,
        "severity": g.severity,
        "provisional": g.provisional,
        "systemic": g.systemic,
        "domain": g.letters["HD"],
        "rationales": canonical_json({}),
        "evidence_refs": canonical_json([]),
        "note": "seeded",
        "created_at": case["created_at"],
    }


def _write_batch(
    registry: Registry,
    cast: _Cast,
    case_rows: list[dict[str, Any]],
    asm_rows: list[dict[str, Any]],
    audit: list[_AuditItem],
) -> None:
    """Insert one batch and extend the audit chain over it, in one transaction."""
    with Session(registry.engine.execution_options(jbgrade_write=True)) as s, s.begin():
        head = s.execute(
            sa.select(AuditHead).where(AuditHead.id == 1).with_for_update()
        ).scalar_one()
        seq, prev = head.seq, head.entry_sha256
        entries = []
        at = datetime.now(UTC)
        for actor_id, action, obj, cid in audit:
            seq += 1
            fields = {
                "seq": seq,
                "at": at,
                "actor_id": actor_id,
                "actor_org_id": obj.org_id if isinstance(obj, Assessment) else cast.rep_org,
                "action": action,
                "object_type": "assessment" if isinstance(obj, Assessment) else "case",
                "object_id": obj.id,
                "case_id": cid,
                "state_sha256": state_hash(obj),
                "prev_sha256": prev,
            }
            prev = entry_hash(**fields)
            entries.append({**fields, "entry_sha256": prev})
        s.execute(sa.insert(Case), case_rows)
        if asm_rows:
            s.execute(sa.insert(Assessment), asm_rows)
        s.execute(sa.insert(AuditEntry), entries)
        head.seq, head.entry_sha256 = seq, prev


def seed_cases(
    registry: Registry,
    n: int,
    *,
    labs: int = 8,
    seed: int = 0,
    assessed_share: float = 0.7,
    embargoed_share: float = 0.15,
    batch: int = 2000,
    now: datetime | None = None,
) -> SeedResult:
    """Create ``n`` cases (plus organisations, users and one assessment for about
    ``assessed_share`` of them) on an empty or bootstrapped registry."""
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    tag = f"{seed}-{rng.randrange(10**9)}"
    with Session(registry.engine) as s:
        has_users = s.execute(sa.text("SELECT 1 FROM users LIMIT 1")).first() is not None
    if has_users:
        raise ValueError("seed_cases needs an empty registry")
    admin, _ = registry.bootstrap(f"Seed operator {tag}", f"seed-admin-{tag}")
    lab_ids = [
        registry.create_org(admin, f"Seed lab {i} {tag}", kind="lab").id for i in range(labs)
    ]
    rep_org = registry.create_org(admin, f"Seed researchers {tag}", kind="research").id
    gov_org = registry.create_org(admin, f"Seed regulator {tag}", kind="government").id
    rep_user = registry.create_user(admin, rep_org, f"seed-rep-{tag}", "reporter")
    lab_user = registry.create_user(admin, lab_ids[0], f"seed-lab-{tag}", "assessor")
    gov_user = registry.create_user(admin, gov_org, f"seed-gov-{tag}", "regulator")
    cast = _Cast(lab_ids, rep_org, rep_user.id, lab_user.id, tag)
    metrics = default_tables().metrics
    vectors = []
    for _ in range(512):
        parts = [f"{m.key}:{rng.choice(m.letters)}" for m in metrics]
        vectors.append(grade("JBG:1.0/" + "/".join(parts)))
    made = assessed = 0
    span_ms = int(timedelta(days=730).total_seconds() * 1000)
    start_ms = int(now.timestamp() * 1000) - span_ms
    step = span_ms // max(n, 1)
    while made < n:
        k = min(batch, n - made)
        case_rows: list[dict[str, Any]] = []
        asm_rows: list[dict[str, Any]] = []
        audit: list[_AuditItem] = []
        for i in range(made, made + k):
            ms = start_ms + i * step
            owner = lab_ids[rng.randrange(labs)]
            g = vectors[rng.randrange(len(vectors))] if rng.random() < assessed_share else None
            row = _case_row(
                rng, cast, i=i, ms=ms, g=g, owner=owner, now=now, embargoed_share=embargoed_share
            )
            case_rows.append(row)
            audit.append((rep_user.id, "case.report", Case(**row), row["id"]))
            if g is not None:
                a = _assessment_row(cast, row, ms, g)
                asm_rows.append(a)
                audit.append((lab_user.id, "assessment.add", Assessment(**a), row["id"]))
                assessed += 1
        _write_batch(registry, cast, case_rows, asm_rows, audit)
        made += k
    return SeedResult(
        admin=admin,
        lab_assessor=Registry.actor_of(lab_user),
        reporter=Registry.actor_of(rep_user),
        outsider=Registry.actor_of(gov_user),
        cases=made,
        assessments=assessed,
    )
