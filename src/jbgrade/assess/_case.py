"""Case files: one party's assessment of a reported jailbreak, as YAML.

A case file says what the jailbreak is (payload by file reference only), which
models, vendors and deployments it affects, who assesses it, the metric values
the assessor sets by hand (each with a rationale), an optional campaign that
measures the rest, how measured and hand values take precedence, which policy
profiles apply and from which awareness date their clocks run.

The published JSON Schema (``jbgrade schema show case``) is generated from the
pydantic models (:mod:`jbgrade.assess._case_model`); the loader here checks a file
against it first so that every error names the file, the line and the field.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from pydantic import ValidationError

from jbgrade._errors import CaseFileError, VectorError
from jbgrade._yaml import LocatedDoc, dotted, load_located, read_bytes_limited, read_located
from jbgrade.assess._case_model import (
    Assessor,
    Attack,
    CampaignRef,
    Case,
    Deployment,
    EvidenceItem,
    HandMetric,
    Jailbreak,
    Model,
    Payload,
    PolicySettings,
    PrecedenceRule,
    case_json_schema,
)
from jbgrade.rubric import (
    NOT_ASSESSED,
    VERSIONS,
    Tables,
    Vector,
    default_tables,
    parse_vector,
    tables_for,
)

__all__ = ["MAX_PAYLOAD_BYTES", "LoadedCase", "case_tables", "load_case"]

#: Largest payload file a case may point at (bytes); it is hashed, never inlined.
MAX_PAYLOAD_BYTES = 20_000_000


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
