"""A campaign spec resolved into a plan: targets, comparators, attacks, behaviours, judges.

The plan enumerates the grid of attempts (:class:`WorkItem`), each keyed by
``attempt_key(attack, behaviour, target, sample, seed)``, and writes the
campaign's manifest.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from jbgrade._base import validation_error
from jbgrade._errors import InputError, JbgradeError
from jbgrade.behaviours import load_behaviours
from jbgrade.harness._attacks import Attack, BaselineAttack, attack_from_spec, load_attack
from jbgrade.harness._spec import CampaignSpec, spec_hash
from jbgrade.harness._store import Manifest, ManifestAttack, ManifestBehaviourSet, Shard
from jbgrade.harness._targets import Target, build_target
from jbgrade.judges import EnsembleJudge, Judge, build_judge
from jbgrade.records import Behaviour

__all__ = [
    "CampaignPlan",
    "WorkItem",
    "build_plan",
    "combined_judge",
    "request_seed",
    "target_rates",
]


@functools.lru_cache(maxsize=4096)
def request_seed(seed: int, sample: int) -> int:
    """The per-attempt seed sent to targets: a hash of (campaign seed, sample)."""
    h = hashlib.sha256(f"{seed}:{sample}".encode()).digest()
    return int.from_bytes(h[:4], "big") & 0x7FFFFFFF


def combined_judge(judges: list[Judge], rule: str) -> Judge:
    """The one judge the runner asks: the only one, or the ensemble of all under ``rule``.

    Combination is the ensemble judge's (its rule and threshold); the runner only
    records what it returns (every member's verdict, then the combined one).
    """
    if len(judges) == 1:
        return judges[0]
    return EnsembleJudge(rule=rule, judges=judges)


@dataclass(frozen=True, slots=True)
class WorkItem:
    key: str
    target: int
    attack: Attack
    behaviour: Behaviour
    sample: int
    seed: int


@dataclass
class CampaignPlan:
    """A spec resolved into targets, comparators, attacks, behaviours and judges."""

    spec: CampaignSpec
    targets: list[Target]
    attacks: list[Attack]
    behaviours: list[Behaviour]
    judges: list[Judge]
    behaviour_sets: list[ManifestBehaviourSet]
    spec_path: str | None = None
    #: Comparator targets: asked the baseline prompts only (the "comparator" arm).
    comparators: list[Target] = field(default_factory=list)

    @property
    def arms(self) -> list[Attack]:
        return [BaselineAttack(), *self.attacks]

    @property
    def senders(self) -> list[Target]:
        """Targets then comparators: ``WorkItem.target`` indexes this list."""
        return [*self.targets, *self.comparators]

    @property
    def planned(self) -> int:
        s = self.spec
        per = len(s.seeds) * s.samples * len(self.behaviours)
        return per * (len(self.arms) * len(self.targets) + len(self.comparators))

    def items(self, shard: Shard | None = None) -> Iterator[WorkItem]:
        """Every attempt of the grid (this shard's), in a fixed order."""
        arms = self.arms
        shard = shard or Shard()
        owns = None if shard.count == 1 else shard.owns
        # attempt_key() hashes the compact JSON of (attack, behaviour, target,
        # sample, seed); the string parts are encoded once, not per attempt
        # (tests check the keys equal attempt_key's).
        arm_json = [json.dumps(a.id) for a in arms]
        target_json = [json.dumps(t.info.id) for t in self.targets]
        comp_json = [json.dumps(t.info.id) for t in self.comparators]
        sha256 = hashlib.sha256
        for seed in self.spec.seeds:
            for sample in range(self.spec.samples):
                tail = f",{sample:d},{seed:d}]"
                for b in self.behaviours:
                    b_json = json.dumps(b.id)
                    for ai, attack in enumerate(arms):
                        head = f"[{arm_json[ai]},{b_json},"
                        for ti, t_json in enumerate(target_json):
                            key = sha256(f"{head}{t_json}{tail}".encode()).hexdigest()
                            if owns is None or owns(key):
                                yield WorkItem(key, ti, attack, b, sample, seed)
                    # The comparator arm: each comparator gets the baseline prompt.
                    head = f"[{arm_json[0]},{b_json},"
                    for ci, c_json in enumerate(comp_json, start=len(target_json)):
                        key = sha256(f"{head}{c_json}{tail}".encode()).hexdigest()
                        if owns is None or owns(key):
                            yield WorkItem(key, ci, arms[0], b, sample, seed)

    def manifest(self) -> Manifest:
        ident = self.spec.identity()
        ident["resolved"] = {
            "attacks": [{"spec": a.spec(), "tags": list(a.tags)} for a in self.attacks],
            "behaviour_sets": [b.model_dump(mode="json") for b in self.behaviour_sets],
        }
        h = spec_hash(ident)
        try:
            return self._manifest(h)
        except ValidationError as exc:
            # A plug-in whose spec() is not JSON: one line naming it (attacks.1.spec.KEY).
            raise validation_error(
                exc, path=self.spec_path, context="not a JSON spec (a plug-in's spec())"
            ) from None

    def _manifest(self, h: str) -> Manifest:
        from jbgrade import __version__

        return Manifest(
            campaign=f"{self.spec.name}-{h[:12]}",
            name=self.spec.name,
            spec_hash=h,
            spec=self.spec.model_dump(mode="json"),
            spec_path=self.spec_path,
            targets=[t.info for t in self.targets],
            comparators=[t.info for t in self.comparators],
            attacks=[
                ManifestAttack(id=a.id, kind=a.kind, tags=list(a.tags), spec=a.spec())
                for a in self.arms
            ],
            behaviour_sets=self.behaviour_sets,
            judges=[j.spec() for j in self.judges],
            combine=self.spec.combine,
            seeds=list(self.spec.seeds),
            samples=self.spec.samples,
            planned=self.planned,
            created_at=datetime.now(UTC),
            jbgrade_version=__version__,
        )

    async def aclose(self) -> None:
        for t in self.targets:
            await t.aclose()
        for j in self.judges:
            await j.aclose()


def _digest(behaviours: Sequence[Behaviour]) -> str:
    h = hashlib.sha256()
    for b in behaviours:
        h.update(json.dumps([b.id, b.domain, b.category, b.text]).encode())
    return h.hexdigest()


def build_plan(
    spec: CampaignSpec, base_dir: Path | None = None, spec_path: str | None = None
) -> CampaignPlan:
    """Resolve a spec: build targets and judges, load attacks and behaviours."""
    base = base_dir or Path.cwd()
    attacks: list[Attack] = []
    for i, ref in enumerate(spec.attacks):
        if ref.inline is not None:
            attacks.append(attack_from_spec(ref.inline, f"{spec_path or 'spec'}: attacks[{i}]"))
        else:
            name = ref.ref or ref.plugin
            assert name is not None
            attacks.append(load_attack(name, base, ref.options))
    ids = [a.id for a in attacks]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise InputError(f"duplicate attack id {dup[0]!r}", path=spec_path, field="attacks")
    behaviours: list[Behaviour] = []
    sets: list[ManifestBehaviourSet] = []
    seen: set[str] = set()
    for bref in spec.behaviours:
        src = bref.source
        p = Path(src)
        if not p.is_absolute() and (base / p).exists():
            src = str(base / p)
        items = load_behaviours(src, format=bref.format)
        if bref.domains is not None:
            items = [b for b in items if b.domain in bref.domains]
        if bref.ids is not None:
            wanted = set(bref.ids)
            items = [b for b in items if b.id in wanted]
        if bref.limit is not None:
            items = items[: bref.limit]
        for b in items:
            if b.id in seen:
                raise InputError(
                    f"behaviour id {b.id!r} appears in two sets", path=spec_path, field="behaviours"
                )
            seen.add(b.id)
        behaviours.extend(items)
        sets.append(
            ManifestBehaviourSet(
                source=bref.source,
                count=len(items),
                domains=sorted({b.domain for b in items}),
                digest=_digest(items),
            )
        )
    if not behaviours:
        raise InputError(
            "the behaviour sets select no behaviour", path=spec_path, field="behaviours"
        )
    targets = [build_target(t, base) for t in spec.targets]
    comparators = [build_target(t, base) for t in spec.comparators]
    judges = [build_judge(dict(j)) for j in spec.judges]
    try:
        combined_judge(judges, spec.combine)
    except JbgradeError as exc:
        raise InputError(f"judges: {exc}", path=spec_path, field="combine") from None
    return CampaignPlan(
        spec, targets, attacks, behaviours, judges, sets, spec_path, comparators=comparators
    )


def target_rates(spec: CampaignSpec) -> list[tuple[float | None, float | None]]:
    """Each target's (requests_per_s, tokens_per_min): its own, else the campaign's;
    targets then comparators (``spec.senders``, which ``WorkItem.target`` indexes)."""
    lim = spec.limits
    return [
        (ts.requests_per_s or lim.requests_per_s, ts.tokens_per_min or lim.tokens_per_min)
        for ts in spec.senders
    ]
