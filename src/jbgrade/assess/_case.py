"""Case files: one party's assessment of a reported jailbreak, as YAML.

A case file says what the jailbreak is (payload by file reference only), which
models, vendors and deployments it affects, who assesses it, the metric values
the assessor sets by hand (each with a rationale), an optional campaign that
measures the rest, how measured and hand values take precedence, which policy
profiles apply and from which awareness date their clocks run.

The published JSON Schema (``jbgrade schema show case``) is generated from the
pydantic models below; the loader checks a file against it first so that every
error names the file, the line and the field.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from enum import StrEnum
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import jsonschema
from pydantic import Field, StringConstraints, ValidationError

from jbgrade._base import FrozenRecord as _Model
from jbgrade._errors import CaseFileError, VectorError
from jbgrade._yaml import LocatedDoc, dotted, load_located, read_bytes_limited, read_located
from jbgrade.rubric import (
    NOT_ASSESSED,
    VERSIONS,
    Tables,
    Vector,
    default_tables,
    parse_vector,
    tables_for,
)

__all__ = [
    "CASE_FORMAT",
    "Assessor",
    "Attack",
    "CampaignRef",
    "Case",
    "Deployment",
    "EvidenceItem",
    "HandMetric",
    "Jailbreak",
    "LoadedCase",
    "Model",
    "Payload",
    "PolicySettings",
    "Precedence",
    "PrecedenceRule",
    "case_json_schema",
    "load_case",
]

#: Largest payload file a case may point at (bytes); it is hashed, never inlined.
MAX_PAYLOAD_BYTES = 20_000_000

CASE_FORMAT = 1


class Precedence(StrEnum):
    """Which value wins when a measured and a hand-set value of a metric disagree."""

    measured_over_assessor = "measured_over_assessor"
    assessor_over_measured = "assessor_over_measured"
    #: The higher (more severe) of the two: precaution, as when a threshold cannot be
    #: ruled out.
    precautionary = "precautionary"


class Payload(_Model):
    """The jailbreak's payload, by reference only: a case file never inlines it."""

    file: str = Field(description="Path to the payload file, relative to the case file.")
    sha256: str | None = Field(
        default=None,
        pattern=r"^[0-9a-f]{64}$",
        description="Expected SHA-256 of the payload file (checked when given).",
    )
    sensitive: bool = Field(
        default=True,
        description="Whether the payload must be kept confidential (never copied into reports).",
    )


class Attack(_Model):
    """How the jailbreak works: a reference to an attack definition, or a short name."""

    name: str = Field(description="Short name of the attack technique.")
    ref: str | None = Field(
        default=None,
        description="Path to an attack definition (e.g. a harness attack YAML), relative "
        "to the case file.",
    )
    kind: str | None = Field(
        default=None,
        description="Technique family, e.g. 'role-play', 'many-shot', 'encoding', 'multi-turn'.",
    )
    atlas: list[Annotated[str, StringConstraints(pattern=r"^AML\.T\d{4}(\.\d{3})?$")]] = Field(
        default_factory=list,
        description="MITRE ATLAS technique ids of the attack (e.g. AML.T0054 LLM Jailbreak, "
        "AML.T0051.000 direct prompt injection). Reports and exports show these first; "
        "jbgrade adds AML.T0054 and what its table knows for the kind.",
    )


class Jailbreak(_Model):
    """The reported jailbreak."""

    description: str = Field(description="What the jailbreak does, in plain words.")
    attack: Attack | None = Field(default=None, description="The attack definition or reference.")
    payload: Payload | None = Field(default=None, description="The payload, by file reference.")
    reported_by: str | None = Field(default=None, description="Who reported it.")
    reported_on: date | None = Field(default=None, description="When it was reported.")
    references: list[str] = Field(
        default_factory=list, description="Public references (advisories, papers, posts)."
    )


class Deployment(_Model):
    """Where an affected model is deployed."""

    name: str = Field(description="Deployment name, e.g. 'public API', 'consumer app'.")
    exposure: Literal["restricted", "public", "open_weights"] = Field(
        description="restricted (internal, trusted testers), public (API or product) or "
        "open_weights (cannot be patched); the EX metric's facts."
    )
    jurisdictions: list[str] = Field(
        default_factory=list, description="Where it is offered, e.g. ['US', 'EU']."
    )
    users: str | None = Field(default=None, description="Reach, e.g. '10M monthly users'.")


class Model(_Model):
    """An affected model."""

    id: str = Field(description="Model identifier.")
    vendor: str = Field(description="Vendor (or developer) of the model.")
    family: str | None = Field(default=None, description="Model family, for transfer.")
    weights: Literal["open", "closed"] = Field(description="Whether the weights are published.")
    training_compute_flop: float | None = Field(
        default=None, ge=0, description="Training compute in FLOP where known."
    )
    frontier: bool | None = Field(
        default=None, description="Whether the model counts as a frontier model."
    )
    deployments: list[Deployment] = Field(
        default_factory=list, description="Deployments of this model."
    )


class Assessor(_Model):
    """Who made this assessment."""

    name: str = Field(description="Assessor's name or team.")
    organisation: str = Field(description="Organisation the assessor acts for.")
    role: Literal["lab", "regulator", "researcher", "third_party", "bug_bounty", "other"] = Field(
        default="other", description="The party's role in the case."
    )
    contact: str | None = Field(default=None, description="Contact address.")


class HandMetric(_Model):
    """A metric value set by the assessor, with the reasons for it."""

    value: str | None = Field(
        default=None,
        description="Value letter (or X: not assessed). May be omitted when the case's "
        "`vector` gives it; then this entry only carries the rationale.",
    )
    rationale: str | None = Field(
        default=None, description="Why this value: required for every value other than X."
    )
    evidence: list[str] = Field(
        default_factory=list,
        description="Evidence cited: ids from the case's `evidence` list, URLs or notes.",
    )


class PrecedenceRule(_Model):
    """Precedence with per-metric exceptions."""

    default: Precedence = Field(description="Rule for metrics without their own.")
    per_metric: dict[str, Precedence] = Field(
        default_factory=dict, description="Metric key -> rule for that metric."
    )

    def for_metric(self, key: str) -> Precedence:
        return self.per_metric.get(key, self.default)


class CampaignRef(_Model):
    """The campaign that measures the jailbreak: inline spec, spec file, or finished results."""

    spec: dict[str, Any] | None = Field(
        default=None, description="An inline campaign spec (see `jbgrade schema show campaign`)."
    )
    ref: str | None = Field(
        default=None, description="Path to a campaign spec YAML, relative to the case file."
    )
    results: str | None = Field(
        default=None,
        description="Path to a finished campaign directory whose evidence is used as is.",
    )
    attack: str | None = Field(
        default=None,
        description="Which of the campaign's attacks is this jailbreak (default: the "
        "jailbreak's attack name, or the campaign's only attack).",
    )


class PolicySettings(_Model):
    """Which policy profiles decide, and with what context."""

    profiles: list[str] | Literal["all"] = Field(
        default="all", description="Profile ids to apply, or 'all' shipped profiles."
    )
    context: dict[str, Any] = Field(
        default_factory=dict,
        description="Context for the policy engine (e.g. training compute, weights, "
        "jurisdiction); facts derivable from `models` are filled in when absent.",
    )


class EvidenceItem(_Model):
    """A piece of evidence an assessor cites."""

    id: str = Field(description="Identifier cited from metrics' `evidence` lists.")
    description: str = Field(description="What it shows.")
    file: str | None = Field(default=None, description="A file, relative to the case file.")
    url: str | None = Field(default=None, description="Where it is published.")


class Case(_Model):
    """One party's assessment of a reported jailbreak (case file format 1)."""

    case_format: Literal[1] = Field(description="Case file format version; this is 1.")
    id: str = Field(
        description="Case identifier, shared by every party's assessment of the same case."
    )
    title: str = Field(description="Short title.")
    summary: str | None = Field(default=None, description="A paragraph on the case.")
    jailbreak: Jailbreak = Field(description="The reported jailbreak.")
    models: list[Model] = Field(min_length=1, description="Affected models.")
    assessor: Assessor = Field(description="Who made this assessment.")
    assessed_on: date | None = Field(default=None, description="Date of this assessment.")
    aware_on: date = Field(
        description="Date the party became aware of the jailbreak; policy clocks start here."
    )
    jbg: Literal["1.0", "1.1"] | None = Field(
        default=None,
        description="Version of the JBG standard the case is graded in (default: the "
        "version of `vector` when given, else 1.0). New cases should say 1.1.",
    )
    vector: str | None = Field(
        default=None,
        description="A full JBG vector with the assessor's values (alternative to, or "
        "consistent with, `metrics`).",
    )
    metrics: dict[str, HandMetric] = Field(
        default_factory=dict, description="Metric key -> value set by hand with its rationale."
    )
    precedence: Precedence | PrecedenceRule = Field(
        default=Precedence.measured_over_assessor,
        description="Which value wins where measured and hand values disagree.",
    )
    campaign: CampaignRef | None = Field(default=None, description="Optional measurement campaign.")
    policy: PolicySettings = Field(
        default_factory=PolicySettings, description="Profiles and context for decisions."
    )
    evidence: list[EvidenceItem] = Field(
        default_factory=list, description="Evidence the assessor cites."
    )

    def precedence_for(self, key: str) -> Precedence:
        p = self.precedence
        return p if isinstance(p, Precedence) else p.for_metric(key)


@cache
def case_json_schema() -> dict[str, Any]:
    """The published JSON Schema of case files."""
    text = resources.files("jbgrade.assess").joinpath("data/case.schema.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


class LoadedCase:
    """A validated case plus where it came from."""

    def __init__(self, case: Case, doc: LocatedDoc, base: Path, sha256: str, hand: Vector):
        self.case = case
        self.doc = doc
        self.base = base
        self.sha256 = sha256
        #: The assessor's values as a vector (X where the assessor set nothing).
        self.hand = hand
        #: SHA-256 of the payload file as loaded and checked (None: no payload). Reports
        #: show this digest: the bytes checked are the bytes reported, hashed once.
        self.payload_sha256: str | None = None

    @property
    def path(self) -> str:
        return self.doc.path

    def resolve(self, rel: str) -> Path:
        """A path from the case file, relative to the case file's directory."""
        p = Path(rel)
        return p if p.is_absolute() else self.base / p


#: Words YAML 1.1 read as booleans and YAML 1.2 (hence jbgrade) reads as text.
_YAML11_BOOLEANS = frozenset({"yes", "no", "y", "n", "on", "off"})


def _schema_error(doc: LocatedDoc, err: jsonschema.ValidationError) -> CaseFileError:
    # Prefer the most specific sub-error of an anyOf/oneOf so the message names a field.
    best = err
    while best.context:
        # Skip the "or null" branch of optional fields: its message helps nobody.
        ctx = [e for e in best.context if e.schema != {"type": "null"}] or list(best.context)
        best = min(ctx, key=lambda e: -len(e.absolute_path))
    where = list(best.absolute_path)
    msg = best.message
    schema: Any = best.schema
    if best.validator == "additionalProperties" and isinstance(best.instance, dict):
        extra = sorted(set(best.instance) - set(schema.get("properties", {})))
        if extra:
            where.append(extra[0])
            msg = f"unknown field {extra[0]!r}"
    elif (
        best.validator == "type"
        and best.validator_value == "boolean"
        and isinstance(best.instance, str)
        and best.instance.lower() in _YAML11_BOOLEANS
    ):
        # Case files are read as YAML 1.2 (jbgrade._yaml), like profiles and context files.
        msg = f"{best.instance!r} is text, not a boolean: write true or false"
    elif best.validator == "required" and isinstance(best.instance, dict):
        wanted: Any = best.validator_value
        missing = [k for k in wanted if k not in best.instance]
        if missing:
            return CaseFileError(
                "required field missing",
                path=doc.path,
                line=doc.line_of(where),
                field=dotted([*where, missing[0]]),
            )
    return doc.error(msg, where, cls=CaseFileError)


def case_tables(data: Any) -> Tables:
    """The tables a case file is graded with: its ``jbg`` version, else its vector's, else 1.0."""
    if isinstance(data, dict):
        ver = data.get("jbg")
        if isinstance(ver, str) and ver in VERSIONS:
            return tables_for(ver)
        vec = data.get("vector")
        if isinstance(vec, str) and vec.startswith("JBG:"):
            v = vec[4:].partition("/")[0]
            if v in VERSIONS:
                return tables_for(v)
    return default_tables()


def _check_metrics(doc: LocatedDoc, data: dict[str, Any]) -> None:
    """Metric keys and letters, checked before the schema so errors name the metric."""
    tables = case_tables(data)
    known = {m.key: m for m in tables.metrics}
    metrics = data.get("metrics")
    if isinstance(metrics, dict):
        for key, entry in metrics.items():
            if key not in known:
                raise doc.error(
                    f"unknown metric {key!r} (JBG {tables.version} metrics: {', '.join(known)})",
                    ("metrics", key),
                    cls=CaseFileError,
                )
            if isinstance(entry, str):
                raise doc.error(
                    "give a mapping with 'value' and 'rationale', e.g. "
                    f"{{value: {entry}, rationale: '...'}}",
                    ("metrics", key),
                    cls=CaseFileError,
                )
            if isinstance(entry, dict) and "value" in entry:
                v = entry["value"]
                m = known[key]
                if not isinstance(v, str) or (v != NOT_ASSESSED and v not in m.letters):
                    raise doc.error(
                        f"metric {key} does not allow value {v!r} "
                        f"(allowed: {'/'.join((*m.letters, NOT_ASSESSED))})",
                        ("metrics", key, "value"),
                        cls=CaseFileError,
                    )
    prec = data.get("precedence")
    if isinstance(prec, dict) and isinstance(prec.get("per_metric"), dict):
        for key in prec["per_metric"]:
            if key not in known:
                raise doc.error(
                    f"unknown metric {key!r}", ("precedence", "per_metric", key), cls=CaseFileError
                )


def _hand_vector(doc: LocatedDoc, case: Case) -> Vector:
    tables = case_tables({"jbg": case.jbg, "vector": case.vector})
    letters = {m.key: NOT_ASSESSED for m in tables.metrics}
    if case.vector is not None:
        try:
            letters.update(parse_vector(case.vector, tables).items())
        except VectorError as exc:
            raise doc.error(str(exc), ("vector",), cls=CaseFileError) from None
    for key, hm in case.metrics.items():
        if hm.value is None:
            if case.vector is None:
                raise doc.error(
                    "no value (give 'value', or a case 'vector')",
                    ("metrics", key),
                    cls=CaseFileError,
                )
            continue
        if case.vector is not None and letters[key] != hm.value:
            raise doc.error(
                f"value {hm.value} contradicts the case vector's {key}:{letters[key]}",
                ("metrics", key, "value"),
                cls=CaseFileError,
            )
        letters[key] = hm.value
    for key, v in letters.items():
        if v == NOT_ASSESSED:
            continue
        entry = case.metrics.get(key)
        if entry is None or not (entry.rationale or "").strip():
            raise doc.error(
                f"{key}:{v} is set by hand without a rationale (add metrics.{key}.rationale, "
                "or set it to X)",
                ("metrics", key) if entry is not None else ("vector",),
                cls=CaseFileError,
            )
    return Vector(letters, tables)


def _check_files(loaded: LoadedCase) -> None:
    doc, case = loaded.doc, loaded.case
    jb = case.jailbreak
    if jb.payload is not None:
        where = ("jailbreak", "payload", "file")
        p = loaded.resolve(jb.payload.file)
        if not p.is_file():
            raise doc.error(f"referenced file not found: {p}", where, cls=CaseFileError)
        data = read_bytes_limited(
            p, max_bytes=MAX_PAYLOAD_BYTES, what="payload file", cls=CaseFileError
        )
        digest = hashlib.sha256(data).hexdigest()
        loaded.payload_sha256 = digest
        if jb.payload.sha256 is not None and digest != jb.payload.sha256:
            raise doc.error(
                f"payload SHA-256 is {digest}, the case file says {jb.payload.sha256}",
                ("jailbreak", "payload", "sha256"),
                cls=CaseFileError,
            )
    if jb.attack is not None and jb.attack.ref is not None:
        p = loaded.resolve(jb.attack.ref)
        if not p.is_file():
            raise doc.error(
                f"referenced file not found: {p}", ("jailbreak", "attack", "ref"), cls=CaseFileError
            )
        if p.suffix in (".yaml", ".yml"):
            # An attack definition in the harness's format: check it now, not mid-campaign.
            from jbgrade.harness import load_attack

            load_attack(str(p))
    for i, ev in enumerate(case.evidence):
        if ev.file is not None and not loaded.resolve(ev.file).exists():
            raise doc.error(
                f"referenced file not found: {loaded.resolve(ev.file)}",
                ("evidence", i, "file"),
                cls=CaseFileError,
            )
    if case.campaign is not None:
        c = case.campaign
        given = [k for k in ("spec", "ref", "results") if getattr(c, k) is not None]
        if len(given) != 1:
            raise doc.error(
                "give exactly one of 'spec', 'ref' or 'results'", ("campaign",), cls=CaseFileError
            )
        if c.ref is not None and not loaded.resolve(c.ref).is_file():
            raise doc.error(
                f"referenced file not found: {loaded.resolve(c.ref)}",
                ("campaign", "ref"),
                cls=CaseFileError,
            )
        if c.results is not None and not loaded.resolve(c.results).is_dir():
            raise doc.error(
                f"referenced directory not found: {loaded.resolve(c.results)}",
                ("campaign", "results"),
                cls=CaseFileError,
            )
    ids = {ev.id for ev in case.evidence}
    if len(ids) != len(case.evidence):
        seen: set[str] = set()
        for i, ev in enumerate(case.evidence):
            if ev.id in seen:
                raise doc.error(
                    f"duplicate evidence id {ev.id!r}", ("evidence", i, "id"), cls=CaseFileError
                )
            seen.add(ev.id)


def load_case(path: str | Path, *, text: str | None = None) -> LoadedCase:
    """Load and validate a case file; errors name the file, the line and the field."""
    p = Path(path)
    doc = (
        read_located(p, cls=CaseFileError)
        if text is None
        else load_located(text, str(p), cls=CaseFileError)
    )
    raw_text = doc.text
    data = doc.data
    if not isinstance(data, dict):
        raise doc.error("a case file is a YAML mapping", (), cls=CaseFileError)
    _check_metrics(doc, data)
    validator = jsonschema.Draft202012Validator(case_json_schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: doc.line_of(e.absolute_path) or 0)
    if errors:
        raise _schema_error(doc, errors[0])
    try:
        case = Case.model_validate(data)
    except ValidationError as exc:  # the schema should have caught it; locate anyway
        e = exc.errors()[0]
        where = [x for x in e["loc"] if isinstance(x, int) or x in _field_names()]
        raise doc.error(e["msg"], where, cls=CaseFileError) from None
    sha = hashlib.sha256(raw_text.encode("utf-8")).hexdigest()
    hand = _hand_vector(doc, case)
    loaded = LoadedCase(case, doc, p.parent, sha, hand)
    _check_files(loaded)
    return loaded


@cache
def _field_names() -> frozenset[str]:
    names = {m.key for v in VERSIONS for m in tables_for(v).metrics}
    for model in (
        Case,
        Jailbreak,
        Attack,
        Payload,
        Model,
        Deployment,
        Assessor,
        HandMetric,
        PrecedenceRule,
        CampaignRef,
        PolicySettings,
        EvidenceItem,
    ):
        names.update(model.model_fields)
    return frozenset(names)
