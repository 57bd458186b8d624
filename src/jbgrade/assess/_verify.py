"""Strict reading of ``report.json``: validate, recompute, check the hash and signature.

A report - one's own or a counter-party's - is read in four steps, each of
which names the first field that fails:

1. **Parse and validate** against the report model (format 1 is migrated
   first, with a note in ``read_notes``).
2. **Recompute the grade** from ``vector`` under the tables of its version:
   every field of ``grade`` must equal the recomputed one.
3. **Recompute each decision** whose profile (identified by its bundle hash)
   is available here, from the grade, the report's context and ``aware_on``.
4. **Check ``content_sha256``** (RFC 8785 canonical JSON of the report without
   ``content_sha256``, ``signature`` and ``read_notes``) and, when signed, the
   Ed25519 **signature** over the same canonical JSON with the hash included.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from jbgrade._errors import InputError, JbgradeError, ReportIntegrityError
from jbgrade.assess._records import (
    AssessmentReport,
    ReportSignature,
    deadlines_of,
    decision_record,
)
from jbgrade.evidence import Evidence
from jbgrade.policy import Profile, decide, load_profile, profile_edition
from jbgrade.records import canonical_json, canonical_sha256
from jbgrade.rubric import grade

__all__ = [
    "ReportCheck",
    "content_sha256_of",
    "generate_signing_key",
    "load_public_key",
    "read_report",
    "seal_report",
    "sign_report",
    "verify_report",
]

#: Fields a report's content hash leaves out (and the signature, the first two).
# deadlines: derived from decisions and generated_at (checked in _check_deadlines), and
# absent from reports made before it existed, whose hashes must still verify.
_UNHASHED = ("content_sha256", "signature", "read_notes", "deadlines")


def _loc(loc: Sequence[str | int]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _first_diff(got: Any, want: Any, path: str) -> tuple[str, Any, Any] | None:
    """The first path where two JSON values differ, with both values there."""
    if isinstance(got, Mapping) and isinstance(want, Mapping):
        for k in list(want) + [k for k in got if k not in want]:
            sub = f"{path}.{k}" if path else str(k)
            if k not in got or k not in want:
                return sub, got.get(k), want.get(k)
            d = _first_diff(got[k], want[k], sub)
            if d is not None:
                return d
        return None
    if isinstance(got, list) and isinstance(want, list):
        for i, (a, b) in enumerate(zip(got, want, strict=False)):
            d = _first_diff(a, b, f"{path}[{i}]")
            if d is not None:
                return d
        if len(got) != len(want):
            return f"{path}[{min(len(got), len(want))}]", len(got), len(want)
        return None
    if got != want or (
        type(got) is not type(want)
        and not (isinstance(got, (int, float)) and isinstance(want, (int, float)))
    ):
        return path, got, want
    return None


def _short(v: Any) -> str:
    text = json.dumps(v, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


# -- reading ----------------------------------------------------------------------------


def _migrate_v1(data: dict[str, Any]) -> dict[str, Any]:
    """A format 1 report as format 2 (content unchanged; no hash or signature to check)."""
    out = dict(data)
    out["format_version"] = 2
    notes = [
        "migrated from report format 1: it has no content hash or signature, "
        "and its embedded raw evidence copy was dropped"
    ]
    ev = out.get("evidence")
    if isinstance(ev, Mapping):
        # Format 1 flattened the evidence into copies and kept the record as ``raw``:
        # the view is rebuilt from the record (the copies said nothing more).
        out["evidence"] = _view_from_raw(ev.get("raw"), ev.get("attack"))
        if out["evidence"] is None:
            notes.append("its evidence had no readable raw record and is not shown")
    decisions = []
    for pd in out.get("decisions") or []:
        if isinstance(pd, Mapping) and isinstance(pd.get("decision"), Mapping):
            decisions.append({**pd, "decision": {"format_version": 1, **pd["decision"]}})
        else:
            decisions.append(pd)
    out["decisions"] = decisions
    if isinstance(out.get("metrics"), list):
        out["metrics"] = [_v1_metric(m) for m in out["metrics"]]
    out["read_notes"] = notes
    return out


#: The M-CG thresholds assess wrote as prose before design 0190, as the rule's keys.
_V1_CG_THRESHOLDS = {"N_high_below": 0.1, "S_low_at_or_above": 0.3, "L_low_above": 0.0}


def _v1_metric(m: Any) -> Any:
    """A format 1 metric row with its M-CG provenance in the evidence's shape: assess
    wrote ``{gain, low, high, comparator, domain}`` and prose thresholds (design 0190)."""
    meas = m.get("measured") if isinstance(m, Mapping) else None
    if not (isinstance(meas, Mapping) and meas.get("rule") == "M-CG"):
        return m
    prov = meas.get("provenance")
    if not isinstance(prov, Mapping):
        return m
    figs, thr = prov.get("figures"), prov.get("thresholds")
    if not (isinstance(figs, Mapping) and "low" in figs and "high" in figs):
        return m
    new = {"basis": "gain", "domain": figs.get("domain"), "interval": [figs["low"], figs["high"]]}
    new.update((k, figs[k]) for k in ("gain", "comparator") if figs.get(k) is not None)
    if isinstance(thr, Mapping) and set(thr) <= {"N", "S", "L"}:
        thr = _V1_CG_THRESHOLDS
    prov = {**prov, "figures": new, "thresholds": thr}
    return {**m, "measured": {**meas, "provenance": prov}}


def _view_from_raw(raw: Any, attack: Any) -> dict[str, Any] | None:
    from jbgrade.assess._measure import view_of_evidence

    if not isinstance(raw, Mapping):
        return None
    try:
        ev = Evidence.model_validate(raw)
        view = view_of_evidence(ev, attack if isinstance(attack, str) else None)
    except (ValidationError, JbgradeError):
        return None
    return None if view is None else view.model_dump(mode="json")


def read_report(data: bytes | str | Path, source: str | None = None) -> AssessmentReport:
    """Parse and strictly validate a report (migrating format 1); nothing is recomputed.

    Unreadable input raises :class:`~jbgrade.InputError`; a report that does
    not validate raises :class:`~jbgrade.ReportIntegrityError` naming the field.
    """
    if isinstance(data, Path):
        source = source or str(data)
        try:
            data = data.read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read the report: {exc.strerror or exc}", path=source) from exc
    try:
        raw = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"not an assessment report: not JSON ({exc})", path=source) from exc
    if not isinstance(raw, dict) or raw.get("kind") != "jbgrade-assessment-report":
        raise InputError("not an assessment report (kind is missing or wrong)", path=source)
    if raw.get("format_version") == 1:
        raw = _migrate_v1(raw)
    elif raw.get("format_version") != 2:
        raise ReportIntegrityError(
            f"unsupported report format {raw.get('format_version')!r} (supported: 1, 2)",
            path=source,
            field="format_version",
        )
    try:
        return AssessmentReport.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise ReportIntegrityError(
            f"{err['msg']} (got {_short(err.get('input'))})",
            path=source,
            field=_loc(err["loc"]) or None,
        ) from exc


# -- recomputing ------------------------------------------------------------------------


@dataclass
class ReportCheck:
    """What verifying a report found: notes on what could not be checked."""

    notes: list[str] = field(default_factory=list)
    signed_by: str | None = None


def _check_grade(report: AssessmentReport, source: str | None) -> None:
    try:
        g = grade(report.vector)
    except JbgradeError as exc:
        raise ReportIntegrityError(str(exc), path=source, field="vector") from exc
    letters = g.letters
    for i, m in enumerate(report.metrics):
        if letters.get(m.metric) != m.used:
            raise ReportIntegrityError(
                f"{m.used!r} is not the vector's {m.metric} ({letters.get(m.metric)!r})",
                path=source,
                field=f"metrics[{i}].used",
            )
    got = report.grade.model_dump(mode="json")
    want = json.loads(json.dumps(g.to_dict()))
    d = _first_diff(got, want, "grade")
    if d is not None:
        where, a, b = d
        raise ReportIntegrityError(
            f"{_short(a)} does not follow from the vector {report.vector} "
            f"(recomputed: {_short(b)})",
            path=source,
            field=where,
        )


def _profile_for(name: str, bundle: str, version: str) -> Profile | None:
    """The shipped profile (or its edition for JBG ``version``) with this bundle hash."""
    try:
        prof = load_profile(name)
        if prof.has_bundle(bundle):
            return prof
        ed = profile_edition(name, version)
    except JbgradeError:
        return None
    return ed if ed is not None and ed.has_bundle(bundle) else None


def _check_decisions(report: AssessmentReport, source: str | None, check: ReportCheck) -> None:
    g = grade(report.vector)
    for i, pd in enumerate(report.decisions):
        d = pd.decision
        if d is None:
            continue
        if d.profile != pd.profile:
            raise ReportIntegrityError(
                f"{d.profile!r} is not the profile {pd.profile!r} it is listed under",
                path=source,
                field=f"decisions[{i}].decision.profile",
            )
        prof = _profile_for(pd.profile, d.bundle_sha256, g.version)
        if prof is None:
            check.notes.append(
                f"decisions[{i}] ({pd.profile}): profile bundle {d.bundle_sha256[:12]} is not "
                "available here, so the decision was not recomputed"
            )
            continue
        ctx = {k: v for k, v in report.context.items() if k in prof.context}
        want = decision_record(decide(g, ctx, prof, aware_on=report.case.aware_on))
        got_j = {"format_version": d.format_version, **d.to_dict()}
        want_j = {"format_version": want.format_version, **want.to_dict()}
        # A decision made under bundle format 1 names that hash of the same bundle.
        want_j["bundle_sha256"] = d.bundle_sha256
        diff = _first_diff(got_j, want_j, f"decisions[{i}].decision")
        if diff is not None:
            where, a, b = diff
            raise ReportIntegrityError(
                f"{_short(a)} does not follow from the grade, context and aware_on under "
                f"profile {prof.id} {prof.version} (recomputed: {_short(b)})",
                path=source,
                field=where,
            )


def _check_deadlines(report: AssessmentReport, source: str | None) -> None:
    """The deadlines, when present, are exactly those the decisions give on the report's day."""
    if not report.deadlines:
        return
    want = deadlines_of(report.decisions, report.generated_at.astimezone(UTC).date())
    if report.deadlines != want:
        raise ReportIntegrityError(
            "do not follow from the decisions and generated_at", path=source, field="deadlines"
        )


def _hashed(report: AssessmentReport) -> dict[str, Any]:
    data = report.model_dump(mode="json")
    return {k: v for k, v in data.items() if k not in _UNHASHED}


def content_sha256_of(report: AssessmentReport) -> str:
    """The report's content hash: canonical_sha256 of it without the unhashed fields."""
    return canonical_sha256(_hashed(report))


def _signed_bytes(report: AssessmentReport) -> bytes:
    data = _hashed(report)
    data["content_sha256"] = report.content_sha256
    return canonical_json(data)


def verify_report(
    report: AssessmentReport, *, source: str | None = None, public_key: bytes | None = None
) -> ReportCheck:
    """Recompute what can be recomputed and check the hash and signature.

    ``public_key`` (raw 32 bytes) requires the report to be signed by that key.
    Raises :class:`~jbgrade.ReportIntegrityError` naming the first field that fails.
    """
    check = ReportCheck(notes=list(report.read_notes))
    _check_grade(report, source)
    _check_decisions(report, source, check)
    _check_deadlines(report, source)
    if report.content_sha256 is None:
        check.notes.append("the report has no content hash")
    elif report.content_sha256 != content_sha256_of(report):
        raise ReportIntegrityError(
            "does not match the report's content (the report was altered after it was written)",
            path=source,
            field="content_sha256",
        )
    sig = report.signature
    if sig is None:
        if public_key is not None:
            raise ReportIntegrityError(
                "the report is not signed, but a key was given", path=source, field="signature"
            )
        return check
    if report.content_sha256 is None:
        raise ReportIntegrityError(
            "a signed report needs content_sha256", path=source, field="signature"
        )
    ed = _crypto()
    try:
        raw_pub = base64.b64decode(sig.public_key, validate=True)
        value = base64.b64decode(sig.value, validate=True)
    except ValueError as exc:
        raise ReportIntegrityError(f"not base64: {exc}", path=source, field="signature") from exc
    if public_key is not None and raw_pub != public_key:
        raise ReportIntegrityError(
            f"signed by key {sig.key_id[:16]}, not by the key given "
            f"({hashlib.sha256(public_key).hexdigest()[:16]})",
            path=source,
            field="signature.public_key",
        )
    if hashlib.sha256(raw_pub).hexdigest() != sig.key_id:
        raise ReportIntegrityError(
            "does not match the public key", path=source, field="signature.key_id"
        )
    try:
        ed.Ed25519PublicKey.from_public_bytes(raw_pub).verify(value, _signed_bytes(report))
    except Exception as exc:  # InvalidSignature, or a malformed key
        raise ReportIntegrityError(
            "the Ed25519 signature does not verify", path=source, field="signature.value"
        ) from exc
    check.signed_by = sig.key_id
    if public_key is None:
        check.notes.append(
            "the signature verifies with the key embedded in the report; pass --key to check "
            "who signed it"
        )
    return check


# -- writing ----------------------------------------------------------------------------


def seal_report(report: AssessmentReport) -> AssessmentReport:
    """The report with its content hash set (and any signature dropped)."""
    bare = report.model_copy(update={"content_sha256": None, "signature": None, "read_notes": []})
    return bare.model_copy(update={"content_sha256": content_sha256_of(bare)})


def _crypto() -> Any:
    try:
        from cryptography.hazmat.primitives.asymmetric import ed25519
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise InputError(
            "signing needs the 'cryptography' package: pip install 'jbgrade[sign]'"
        ) from exc
    return ed25519


def _load_private(pem: bytes, source: str | None) -> Any:
    ed = _crypto()
    from cryptography.hazmat.primitives import serialization

    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise InputError(f"not an unencrypted PEM private key: {exc}", path=source) from exc
    if not isinstance(key, ed.Ed25519PrivateKey):
        raise InputError("not an Ed25519 private key", path=source)
    return key


def load_public_key(data: bytes, source: str | None = None) -> bytes:
    """Raw 32-byte Ed25519 public key from a PEM public key, a PEM private key or base64."""
    ed = _crypto()
    from cryptography.hazmat.primitives import serialization

    text = data.strip()
    raw = serialization.Encoding.Raw
    fmt = serialization.PublicFormat.Raw
    if text.startswith(b"-----BEGIN PRIVATE KEY"):
        return bytes(_load_private(data, source).public_key().public_bytes(raw, fmt))
    if text.startswith(b"-----BEGIN"):
        try:
            key = serialization.load_pem_public_key(data)
        except ValueError as exc:
            raise InputError(f"not a PEM public key: {exc}", path=source) from exc
        if not isinstance(key, ed.Ed25519PublicKey):
            raise InputError("not an Ed25519 public key", path=source)
        return bytes(key.public_bytes(raw, fmt))
    try:
        out = base64.b64decode(text, validate=True)
    except ValueError as exc:
        raise InputError("not a PEM or base64 Ed25519 public key", path=source) from exc
    if len(out) != 32:
        raise InputError("an Ed25519 public key is 32 bytes", path=source)
    return out


def sign_report(
    report: AssessmentReport, private_key_pem: bytes, *, source: str | None = None
) -> AssessmentReport:
    """The report sealed and signed with an Ed25519 private key (PEM, PKCS#8)."""
    from cryptography.hazmat.primitives import serialization

    key = _load_private(private_key_pem, source)
    sealed = seal_report(report)
    pub = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    sig = ReportSignature(
        public_key=base64.b64encode(pub).decode(),
        key_id=hashlib.sha256(pub).hexdigest(),
        value=base64.b64encode(key.sign(_signed_bytes(sealed))).decode(),
    )
    return sealed.model_copy(update={"signature": sig})


def generate_signing_key() -> tuple[bytes, bytes]:
    """A new Ed25519 key pair as (private PEM, public PEM)."""
    ed = _crypto()
    from cryptography.hazmat.primitives import serialization

    key = ed.Ed25519PrivateKey.generate()
    priv = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    pub = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return bytes(priv), bytes(pub)
