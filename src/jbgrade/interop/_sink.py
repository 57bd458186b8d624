"""Writing an imported result file as an ordinary campaign directory.

An importer streams the tool's records and hands each one, already mapped, to
an :class:`ImportSink`. The sink appends one :class:`~jbgrade.records.Attempt`
per line to ``attempts.jsonl`` as it goes (memory stays flat however large the
input), keeps only the small sets a manifest needs (targets, attacks,
behaviours), and writes ``manifest.json`` last. The manifest's ``spec.import``
says where the attempts came from (tool, version, file hash) and what the
source lacked (``gaps``): the evidence layer reads the gaps back as notes.
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError

from jbgrade import __version__
from jbgrade._base import FrozenRecord, error_message
from jbgrade._errors import InputError
from jbgrade._vocab import Domain
from jbgrade._yaml import read_located
from jbgrade.harness import Manifest, ManifestAttack, ManifestBehaviourSet
from jbgrade.harness import TargetInfo as HarnessTarget
from jbgrade.records import (
    DOMAINS,
    Attempt,
    ChatMessage,
    Verdict,
    attempt_key,
    canonical_sha256,
)

__all__ = [
    "GAP_BASELINE",
    "GAP_DOMAINS",
    "GAP_VENDOR",
    "ImportMap",
    "ImportResult",
    "ImportSink",
    "Source",
    "TargetMap",
    "file_sha256",
    "load_import_map",
]


#: Gap ids a manifest may list under ``spec.import.gaps[].id``.
GAP_BASELINE = "baseline"
GAP_DOMAINS = "domains"
GAP_VENDOR = "vendor"

_to_json = Attempt.__pydantic_serializer__.to_json


class TargetMap(FrozenRecord):
    """What the mapping file says about a target the source names only by model."""

    id: str | None = Field(default=None, description="Target id (default: the model name).")
    model: str | None = Field(default=None, description="Model name (overrides the source's).")
    vendor: str | None = Field(default=None, description="Vendor, for transfer (M-TR).")
    family: str | None = None
    layers: list[str] = Field(default_factory=list, description="Declared protection layers.")


class ImportMap(FrozenRecord):
    """The mapping file of ``jbgrade evidence import --map``: what the source lacks.

    Patterns are shell globs (``fnmatch``) matched against the attack id, the
    behaviour id and the category, in that order; the first match wins.
    """

    format_version: Literal[1] = 1
    campaign: str | None = Field(default=None, description="Campaign id to write.")
    target: TargetMap | None = Field(default=None, description="The one target, when one.")
    targets: dict[str, TargetMap] = Field(
        default_factory=dict, description="Targets by the model name the source gives."
    )
    domain: Domain | None = Field(default=None, description="Hazard domain of anything unmapped.")
    domains: dict[str, Domain] = Field(
        default_factory=dict, description="Glob over attack, behaviour id or category -> domain."
    )
    category: str | None = Field(default=None, description="Category when the source has none.")
    categories: dict[str, str] = Field(
        default_factory=dict, description="Glob over attack or behaviour id -> category."
    )
    baseline: list[str] = Field(
        default_factory=list,
        description="Globs of attack ids whose records are the no-attack baseline arm.",
    )
    attack: str | None = Field(
        default=None, description="Attack id when the source does not name one (HarmBench)."
    )
    model: str | None = Field(
        default=None, description="Model name when the source does not name one (HarmBench)."
    )
    behaviours: str | None = Field(
        default=None,
        description="A behaviour file (any format `jbgrade` loads) giving domain and category "
        "per behaviour id; relative to the mapping file.",
    )
    detectors: list[str] = Field(
        default_factory=list,
        description="Globs of the tool's detectors or scorers whose verdict decides success "
        "(default: all of them; any hit is a success).",
    )
    threshold: float = Field(
        default=0.5, ge=0.0, le=1.0, description="A score at or above it is a success."
    )
    invert: bool | None = Field(
        default=None,
        description="Read the tool's pass as the jailbreak's success (format-specific default).",
    )


def load_import_map(path: Path | None) -> tuple[ImportMap, Path | None]:
    """The mapping file (YAML or JSON), or an empty mapping."""
    if path is None:
        return ImportMap(), None
    doc = read_located(path)
    if doc.data is None or not isinstance(doc.data, dict):
        raise InputError("a mapping file must be a mapping", path=str(path), line=1)
    try:
        return ImportMap.model_validate(doc.data), path.parent
    except ValidationError as exc:
        err = exc.errors()[0]
        where = [str(p) for p in err["loc"]]
        raise doc.error(error_message(err), where) from None


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return h.hexdigest()


@dataclass(frozen=True, slots=True)
class Source:
    """The file being imported and the tool that wrote it."""

    tool: str
    path: Path
    sha256: str
    tool_version: str | None = None


@dataclass
class ImportResult:
    """What an import wrote."""

    directory: Path
    campaign: str
    attempts: int
    attacks: list[str]
    targets: list[str]
    gaps: list[dict[str, str]]
    tool: str
    tool_version: str | None


@dataclass
class _Seen:
    targets: dict[str, HarnessTarget] = field(default_factory=dict)
    attacks: dict[str, str] = field(default_factory=dict)  # id -> kind
    domains: Counter[str] = field(default_factory=Counter)
    behaviours: set[str] = field(default_factory=set)
    detectors: dict[str, dict[str, Any]] = field(default_factory=dict)
    unmapped_domain: int = 0
    unknown_vendor: set[str] = field(default_factory=set)
    baseline: int = 0
    samples: int = 1
    keys: set[str] = field(default_factory=set)
    repeats: Counter[tuple[str, str, str]] = field(default_factory=Counter)


class ImportSink:
    """Streams mapped records into ``directory``; :meth:`finish` writes the manifest."""

    def __init__(
        self,
        directory: Path,
        source: Source,
        mapping: ImportMap,
        *,
        map_dir: Path | None = None,
        behaviour_domains: dict[str, tuple[str, str]] | None = None,
    ) -> None:
        if (directory / "manifest.json").exists() or any(directory.glob("attempts*.jsonl")):
            raise InputError(
                "already holds a campaign: import into a new directory", path=str(directory)
            )
        self._created = not directory.exists()
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.source = source
        self.map = mapping
        self.map_dir = map_dir
        self.behaviour_domains = behaviour_domains or {}
        self.campaign = mapping.campaign or f"import-{source.tool}-{source.sha256[:12]}"
        self._seen = _Seen()
        self._notes: list[dict[str, str]] = []
        self._path = directory / "attempts.jsonl"
        self._fh = self._path.open("wb")

    # ---- mapping helpers

    @staticmethod
    def _match(patterns: dict[str, str], *keys: str | None) -> str | None:
        for key in keys:
            if not key:
                continue
            for pat, val in patterns.items():
                if fnmatch.fnmatchcase(key, pat):
                    return val
        return None

    def is_baseline(self, attack: str) -> bool:
        """Does the mapping (or the caller) put this attack on the baseline arm?"""
        return any(fnmatch.fnmatchcase(attack, p) for p in self.map.baseline)

    def decides(self, detector: str) -> bool:
        """Does this detector's verdict count towards success?"""
        return not self.map.detectors or any(
            fnmatch.fnmatchcase(detector, p) for p in self.map.detectors
        )

    def target(self, model: str | None) -> HarnessTarget:
        """The target for a model name the source gives (or the mapping's one target)."""
        tm = self.map.targets.get(model or "") or self.map.target or TargetMap()
        name = tm.model or model or self.map.model
        if not name:
            name = "unknown-model"
            if not any(g["id"] == "model" for g in self._notes):
                self.note(
                    "model",
                    f"the {self.source.tool} records name no model: recorded as 'unknown-model'; "
                    "give model: or target: in the mapping file",
                )
        tid = tm.id or name
        got = self._seen.targets.get(tid)
        if got is None:
            if tm.vendor is None:
                self._seen.unknown_vendor.add(tid)
            got = HarnessTarget(
                id=tid,
                type=f"import:{self.source.tool}",
                model=name,
                vendor=tm.vendor or "unknown",
                layers=list(tm.layers),
            )
            self._seen.targets[tid] = got
        return got

    def classify(
        self, attack: str, behaviour_id: str, category: str | None, *, source_domain: str | None
    ) -> tuple[str, str, bool]:
        """(domain, category, mapped): the mapping first, then the source's own domain.

        An unmapped record is stored under domain G with category ``unmapped``
        and counted: the manifest lists the gap and the evidence derives no HD.
        """
        known = self.behaviour_domains.get(behaviour_id)
        cat = (
            self._match(self.map.categories, attack, behaviour_id)
            or category
            or (known[1] if known else None)
            or self.map.category
        )
        dom = (
            self._match(dict(self.map.domains), attack, behaviour_id, cat)
            or (known[0] if known else None)
            or source_domain
            or self.map.domain
        )
        if dom in DOMAINS:
            return dom, cat or "uncategorised", True
        self._seen.unmapped_domain += 1
        return "G", cat or "unmapped", False

    # ---- writing

    def add(
        self,
        *,
        target: HarnessTarget,
        attack: str,
        attack_kind: str,
        behaviour_id: str,
        category: str | None,
        sample: int | None,
        messages: list[ChatMessage],
        response: str | None,
        verdicts: list[Verdict],
        success: bool | None,
        record_id: str,
        source_domain: str | None = None,
        error: str | None = None,
        baseline: bool | None = None,
        started_at: datetime | None = None,
    ) -> Attempt:
        """Map and append one attempt."""
        arm: Literal["attack", "baseline"] = (
            "baseline"
            if (baseline if baseline is not None else self.is_baseline(attack))
            else "attack"
        )
        domain, cat, _ = self.classify(attack, behaviour_id, category, source_domain=source_domain)
        attack_id = "baseline" if arm == "baseline" else attack
        if sample is None:  # the source repeats a test as separate records: number them
            cell = (attack_id, behaviour_id, target.id)
            sample = self._seen.repeats[cell]
            self._seen.repeats[cell] += 1
        key = attempt_key(attack_id, behaviour_id, target.id, sample, 0)
        if key in self._seen.keys:  # the same identity twice: keep both, distinctly
            key = attempt_key(attack_id, f"{behaviour_id}#{record_id}", target.id, sample, 0)
        self._seen.keys.add(key)
        a = Attempt(
            key=key,
            campaign=self.campaign,
            arm=arm,
            attack=attack_id,
            behaviour_id=behaviour_id,
            domain=domain,  # type: ignore[arg-type]
            category=cat,
            target=target.id,
            model=target.model,
            vendor=target.vendor,
            sample=sample,
            seed=0,
            messages=messages,
            response=response,
            status="error" if error is not None or success is None else "ok",
            error=error if error is not None else (None if success is not None else "undecided"),
            verdicts=verdicts,
            success=success if error is None else None,
            started_at=started_at,
        )
        self._fh.write(_to_json(a) + b"\n")
        s = self._seen
        if arm == "baseline":
            s.baseline += 1
        else:
            s.attacks.setdefault(attack, attack_kind)
        s.domains[domain] += 1
        s.behaviours.add(behaviour_id)
        s.samples = max(s.samples, sample + 1)
        for v in verdicts:
            s.detectors.setdefault(v.judge, {"type": "imported", "judge": v.judge})
        return a

    def note(self, gap_id: str, message: str) -> None:
        """Record something the source lacks (shown in the evidence)."""
        self._notes.append({"id": gap_id, "message": message})

    def verdict(
        self,
        detector: str,
        value: float,
        *,
        record_id: str,
        explanation: str = "",
        success: bool | None = None,
        extra: dict[str, Any] | None = None,
    ) -> Verdict:
        """A verdict of the tool's own detector or scorer, with provenance in its spec."""
        v = min(1.0, max(0.0, float(value)))
        return Verdict(
            judge=f"{self.source.tool}:{detector}",
            spec={
                "type": "imported",
                "tool": self.source.tool,
                "tool_version": self.source.tool_version,
                "detector": detector,
                "record_id": record_id,
                "source_sha256": self.source.sha256,
                **(extra or {}),
            },
            success=success if success is not None else v >= self.map.threshold,
            value=v,
            explanation=explanation or f"{self.source.tool} {detector} scored {value}",
        )

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.close()

    def abort(self) -> None:
        """Remove what was written (the input was malformed), and the directory when
        this import made it and it is left empty."""
        self.close()
        self._path.unlink(missing_ok=True)
        if self._created:
            with contextlib.suppress(OSError):  # not empty: something else is there
                self.directory.rmdir()

    def finish(self, extra: dict[str, Any] | None = None) -> ImportResult:
        """Write the manifest (after every attempt) and say what was imported."""
        self.close()
        s = self._seen
        src = self.source
        if not s.baseline:
            self.note(
                GAP_BASELINE,
                f"{src.tool} records have no no-attack baseline arm: success rates are not "
                "baseline-adjusted; name baseline attacks in the mapping file (baseline: [...])",
            )
        if s.unmapped_domain:
            self.note(
                GAP_DOMAINS,
                f"{s.unmapped_domain} attempts have no hazard domain in the {src.tool} records "
                "or the mapping file: stored as G/unmapped, and HD is not derived; give "
                "domain:, domains: or behaviours: in the mapping file",
            )
        if s.unknown_vendor:
            self.note(
                GAP_VENDOR,
                f"no vendor for target(s) {', '.join(sorted(s.unknown_vendor))}: transfer across "
                "vendors (TR) cannot be judged; give target.vendor in the mapping file",
            )
        imp: dict[str, Any] = {
            "tool": src.tool,
            "tool_version": src.tool_version,
            "source": str(src.path),
            "source_name": src.path.name,
            "sha256": src.sha256,
            "mapping": self.map.model_dump(mode="json", exclude_defaults=True),
            "gaps": list(self._notes),
            "attempts": len(s.keys),
            **(extra or {}),
        }
        manifest = Manifest(
            campaign=self.campaign,
            name=self.campaign,
            # one definition of every stored hash: RFC 8785 canonical JSON (issue 13)
            spec_hash=canonical_sha256([src.sha256, imp["mapping"]]),
            spec={"import": imp},
            spec_path=str(src.path),
            targets=list(s.targets.values()),
            attacks=[
                ManifestAttack(id=k, kind=kind, unattended=kind != "manual", tool=src.tool)
                for k, kind in sorted(s.attacks.items())
            ],
            behaviour_sets=[
                ManifestBehaviourSet(
                    source=f"{src.tool}:{src.path.name}",
                    count=len(s.behaviours),
                    domains=dict(sorted(s.domains.items())),
                )
            ],
            judges=list(s.detectors.values()),
            combine="imported",
            seeds=[0],
            samples=s.samples,
            planned=len(s.keys),
            created_at=datetime.now(UTC),
            jbgrade_version=__version__,
        )
        mpath = self.directory / "manifest.json"
        tmp = mpath.with_suffix(".json.tmp")
        tmp.write_text(manifest.model_dump_json(indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, mpath)
        return ImportResult(
            directory=self.directory,
            campaign=self.campaign,
            attempts=len(s.keys),
            attacks=sorted(s.attacks),
            targets=sorted(s.targets),
            gaps=list(self._notes),
            tool=src.tool,
            tool_version=src.tool_version,
        )
