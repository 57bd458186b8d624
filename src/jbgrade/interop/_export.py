"""Exports of an assessment report: STIX 2.1 bundles and CSAF 2.0 advisories; the JBG record.

Both are driven by the report's own fields (grade, vector, decisions), not by a
fixed metric list, so a new standard version exports unchanged. JBG values have
no native place in either format: STIX carries them in a published
property extension (``extension-definition``), CSAF 2.0 in
``document.aggregate_severity`` and a ``details`` note whose text is the JBG
record as JSON (CSAF 2.0 scores take CVSS only; a JBG grade fails the
*recommended* test 6.2.3, never a mandatory one). Payloads are never exported.
Case ids stay in jbgrade's namespace: never a CVE.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from importlib import resources
from typing import Any

from jbgrade import __version__
from jbgrade._errors import InputError
from jbgrade.interop._csaf_publisher import CsafPublisher, csaf_publisher

__all__ = [
    "JBG_EXTENSION_ID",
    "JBG_EXTENSION_SCHEMA_URN",
    "atlas_names",
    "atlas_tactics",
    "atlas_techniques",
    "extension_schema_ref",
    "jbg_record",
    "report_atlas",
    "to_csaf",
    "to_csaf21",
    "to_stix",
]

_NS = "6f1c4b52-7a0e-4c59-9d3e-0b1a5e2f9c11"


def _uuid4_from(*parts: str) -> str:
    """A deterministic UUID in version-4 form (STIX SDOs SHOULD use UUIDv4).

    The 122 free bits come from SHA-256 of a jbgrade namespace and ``parts``, so
    the same case exports to the same ids (idempotent re-imports) while the ids
    stay in the form stix2-validator checks (warning 103 otherwise)."""
    h = hashlib.sha256("/".join((_NS, *parts)).encode("utf-8")).digest()[:16]
    return str(uuid.UUID(bytes=h, version=4))


#: The published JBG property extension (stable id; its schema: `jbgrade schema show
#: stix-jbg-extension`, docs/schemas/stix-jbg-extension-1.json).
JBG_EXTENSION_ID = "extension-definition--" + _uuid4_from("jbgrade-jbg-extension-1")
#: The extension's schema reference: the schema's own ``$id`` (a URN: the project has
#: no web domain of its own); ``JBGRADE_SCHEMA_BASE_URL`` makes it a URL under a base
#: where a publisher serves docs/schemas/ (docs/schemas/README.md).
JBG_EXTENSION_SCHEMA_URN = "urn:jbgrade:schema:stix-jbg-extension:1"
_IDENTITY = "identity--" + _uuid4_from("jbgrade")
_TS = "2026-01-01T00:00:00.000Z"


def extension_schema_ref() -> str:
    """Where the JBG STIX extension's schema is published (see JBG_EXTENSION_SCHEMA_URN)."""
    base = os.environ.get("JBGRADE_SCHEMA_BASE_URL", "").strip()
    if base:
        return base.rstrip("/") + "/stix-jbg-extension-1.json"
    return JBG_EXTENSION_SCHEMA_URN


def _atlas_table() -> dict[str, Any]:
    text = resources.files("jbgrade.interop").joinpath("data/atlas.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def atlas_techniques(
    kind: str | None, name: str | None = None, declared: list[str] | None = None
) -> list[str]:
    """ATLAS technique ids for an attack (always including AML.T0054 LLM Jailbreak).

    Ids the case file or the attack plug-in declares (``atlas:``) come first; the
    table ``data/atlas.json`` (by kind, then name) adds what it knows."""
    t = _atlas_table()
    got: list[str] = []
    for key in (kind, name):
        if key and key.lower() in t["by_kind"]:
            got = list(t["by_kind"][key.lower()])
            break
    out: list[str] = []
    for g in [*(declared or []), *t["default"], *got]:
        if g not in out:
            out.append(g)
    return out


def report_atlas(report: dict[str, Any]) -> list[str]:
    """ATLAS technique ids of a report's attack: the case file's ``atlas:`` list, then
    what the campaign's attack declares (a bundled or registered attack by name), then
    the kind table - AML.T0054 always."""
    case = report.get("case") or {}
    attack = (case.get("jailbreak") or {}).get("attack") or {}
    declared = [str(t) for t in attack.get("atlas") or []]
    ev = report.get("evidence")
    atk = ev.get("attack") if isinstance(ev, dict) else None
    name = atk.get("attack") if isinstance(atk, dict) else atk
    for ref in (name, attack.get("name")):
        if not ref:
            continue
        from jbgrade.harness import attack_atlas, load_attack

        try:
            declared += [t for t in attack_atlas(load_attack(str(ref))) if t not in declared]
        except InputError:
            continue
        break
    return atlas_techniques(attack.get("kind"), attack.get("name"), declared)


def atlas_names() -> dict[str, str]:
    """ATLAS technique id -> name, for the ids jbgrade knows."""
    names: dict[str, str] = _atlas_table()["names"]
    return dict(names)


def atlas_tactics(technique: str) -> list[str]:
    """The ATLAS tactics of a technique (a sub-technique takes its parent's)."""
    tactics: dict[str, list[str]] = _atlas_table()["tactics"]
    parent = ".".join(technique.split(".")[:2])
    return list(tactics.get(technique) or tactics.get(parent) or [])


def jbg_record(report: dict[str, Any]) -> dict[str, Any]:
    """The fields every export round-trips, from a report.json.

    A payload is carried only when the report dict holds one under
    ``export_payload`` - put there by ``--include-payload`` on a registry case the
    caller may read, outside its embargo (never from a report file)."""
    try:
        case = report["case"]
        g = report["grade"]
    except (KeyError, TypeError):
        raise InputError("not an assessment report (no case or grade)", field="report") from None
    attack = (case.get("jailbreak") or {}).get("attack") or {}
    decisions = []
    for d in report.get("decisions") or []:
        dec = d.get("decision")
        if dec is None:
            continue
        decisions.append(
            {
                "profile": d.get("profile"),
                "action": dec.get("action"),
                "provisional": bool(dec.get("provisional")),
                "obligations": [
                    {k: o.get(k) for k in ("id", "party", "what", "due")}
                    for o in dec.get("obligations") or []
                ],
            }
        )
    rec: dict[str, Any] = {
        "case_id": case["id"],
        "title": case.get("title") or case["id"],
        "standard": report.get("standard"),
        "vector": g.get("vector") or report.get("vector"),
        "score": g.get("score"),
        "label": g.get("severity"),
        "systemic": bool(g.get("systemic")),
        "provisional": bool(g.get("provisional")),
        "attack": attack.get("name"),
        "attack_kind": attack.get("kind"),
        "atlas": report_atlas(report),
        "decisions": decisions,
        "models": [
            {"id": m.get("id"), "vendor": m.get("vendor")} for m in case.get("models") or []
        ],
    }
    if report.get("export_payload") is not None:
        rec["payload"] = str(report["export_payload"])
    return rec


def _sid(kind: str, *parts: str) -> str:
    return f"{kind}--{_uuid4_from(kind, *parts)}"


def _stix_preamble() -> list[dict[str, Any]]:
    """The jbgrade identity and the JBG extension-definition every bundle starts with."""
    ident = {
        "type": "identity",
        "spec_version": "2.1",
        "id": _IDENTITY,
        "created": _TS,
        "modified": _TS,
        "name": "jbgrade",
        "identity_class": "system",
    }
    ext_def = {
        "type": "extension-definition",
        "spec_version": "2.1",
        "id": JBG_EXTENSION_ID,
        "created_by_ref": _IDENTITY,
        "created": _TS,
        "modified": _TS,
        "name": "JBG jailbreak severity grade",
        "description": "JBG grade of a jailbreak: vector, score, label, systemic and "
        "provisional flags, and the policy decisions with their obligations.",
        "schema": extension_schema_ref(),
        "version": "1.0.0",
        "extension_types": ["property-extension"],
    }
    return [ident, ext_def]


def _stix_vulnerability(r: dict[str, Any], vid: str) -> dict[str, Any]:
    """The case as a vulnerability carrying the JBG record in its property extension."""
    return {
        "type": "vulnerability",
        "spec_version": "2.1",
        "id": vid,
        "created_by_ref": _IDENTITY,
        "created": _TS,
        "modified": _TS,
        "name": f"{r['case_id']}: {r['title']}",
        "description": f"{r['label']} ({r['score']}) {r['vector']}",
        "external_references": [{"source_name": "jbgrade", "external_id": r["case_id"]}],
        "extensions": {
            JBG_EXTENSION_ID: {
                "extension_type": "property-extension",
                "case_id": r["case_id"],
                "standard": r["standard"],
                "vector": r["vector"],
                "score": r["score"],
                "label": r["label"],
                "systemic": r["systemic"],
                "provisional": r["provisional"],
                "decisions": r["decisions"],
                "atlas": r["atlas"],
                **({"payload": r["payload"]} if "payload" in r else {}),
            }
        },
    }


def _stix_technique(r: dict[str, Any], tid: str, vid: str, name: str) -> list[dict[str, Any]]:
    """One ATLAS technique as an attack-pattern, and its ``targets`` relationship."""
    aid = _sid("attack-pattern", r["case_id"], tid)
    return [
        {
            "type": "attack-pattern",
            "spec_version": "2.1",
            "id": aid,
            "created_by_ref": _IDENTITY,
            "created": _TS,
            "modified": _TS,
            "name": name,
            "external_references": [
                {
                    "source_name": "mitre-atlas",
                    "external_id": tid,
                    "url": f"https://atlas.mitre.org/techniques/{tid}",
                }
            ],
        },
        {
            "type": "relationship",
            "spec_version": "2.1",
            "id": _sid("relationship", r["case_id"], tid),
            "created_by_ref": _IDENTITY,
            "created": _TS,
            "modified": _TS,
            "relationship_type": "targets",
            "source_ref": aid,
            "target_ref": vid,
        },
    ]


def to_stix(report: dict[str, Any]) -> dict[str, Any]:
    """A STIX 2.1 bundle: identity, JBG extension-definition, vulnerability, attack-pattern(s)."""
    r = jbg_record(report)
    names = _atlas_table()["names"]
    vid = _sid("vulnerability", r["case_id"])
    objs: list[dict[str, Any]] = [*_stix_preamble(), _stix_vulnerability(r, vid)]
    for tid in r["atlas"]:
        objs.extend(_stix_technique(r, tid, vid, names.get(tid, tid)))
    return {"type": "bundle", "id": _sid("bundle", r["case_id"]), "objects": objs}


def _csaf_notes(r: dict[str, Any]) -> list[dict[str, Any]]:
    """The document notes: the grade, the whole JBG record, one per decision."""
    notes: list[dict[str, Any]] = [
        {
            "category": "summary",
            "title": "JBG grade",
            "text": f"{r['label']} {r['score']} {r['vector']}"
            + (" (systemic)" if r["systemic"] else "")
            + (" (provisional)" if r["provisional"] else ""),
        },
        {
            "category": "details",
            "title": "JBG record (JSON)",
            "text": json.dumps(r, sort_keys=True),
        },
    ]
    for d in r["decisions"]:
        obl = "; ".join(f"{o['due']} {o['party']}: {o['what']}" for o in d["obligations"]) or "none"
        notes.append(
            {
                "category": "general",
                "title": f"Decision under {d['profile']}",
                "text": f"action {d['action']}; obligations: {obl}",
            }
        )
    return notes


def _csaf_vulnerability(r: dict[str, Any], pids: list[str], grade_text: str) -> dict[str, Any]:
    """The one vulnerability: the case, its affected products and the decisions' actions."""
    return {
        "ids": [{"system_name": "jbgrade", "text": r["case_id"]}],
        "title": r["title"],
        "notes": [{"category": "description", "text": grade_text}],
        "product_status": {"known_affected": pids},
        "threats": [{"category": "impact", "details": grade_text, "product_ids": pids}],
        "remediations": [
            {
                "category": "mitigation",
                "details": f"{d['profile']}: {d['action']}",
                "product_ids": pids,
            }
            for d in r["decisions"]
        ]
        or [{"category": "none_available", "details": "no decision", "product_ids": pids}],
    }


def to_csaf(report: dict[str, Any], publisher: CsafPublisher | None = None) -> dict[str, Any]:
    """A CSAF 2.0 ``csaf_base`` document carrying the JBG record."""
    pub = publisher or csaf_publisher()
    r = jbg_record(report)
    when = str(report.get("generated_at") or _TS)
    products: list[dict[str, Any]] = [
        {
            "category": "product_name",
            "name": str(m["id"]),
            "product": {"name": str(m["id"]), "product_id": f"CSAFPID-{i + 1:04d}"},
        }
        for i, m in enumerate(r["models"])
    ]
    pids = [p["product"]["product_id"] for p in products]
    notes = _csaf_notes(r)
    vendors = sorted({str(m["vendor"]) for m in r["models"] if m.get("vendor")})
    doc: dict[str, Any] = {
        "document": {
            "category": "csaf_base",
            "csaf_version": "2.0",
            "distribution": {"tlp": {"label": "AMBER"}},
            "lang": "en",
            "title": f"{r['case_id']}: {r['title']}",
            "aggregate_severity": {
                "namespace": pub.scale_namespace(),
                "text": str(r["label"]),
            },
            "notes": notes,
            "publisher": {
                "category": pub.category,
                "name": pub.name,
                "namespace": pub.namespace,
            },
            "tracking": {
                "id": r["case_id"],
                "status": "final",
                "version": "1",
                "initial_release_date": when,
                "current_release_date": when,
                "revision_history": [{"date": when, "number": "1", "summary": "Initial export."}],
                "generator": {"engine": {"name": "jbgrade", "version": __version__}},
            },
        },
    }
    if products:
        doc["product_tree"] = {
            "branches": [
                {
                    "category": "vendor",
                    "name": ", ".join(vendors) or "unknown",
                    "branches": products,
                }
            ]
        }
        doc["vulnerabilities"] = [_csaf_vulnerability(r, pids, notes[0]["text"])]
    return doc


def to_csaf21(report: dict[str, Any], publisher: CsafPublisher | None = None) -> dict[str, Any]:
    """A CSAF 2.1 ``csaf_base`` document (committee specification draft, as the ``csaf``
    package's validator implements it): the 2.0 document with 2.1's ``$schema`` and
    version, a title without the tracking id (2.1 test 6.2.x), and the JBG label as a
    ``qualitative_severity_rating`` metric of each vulnerability. The full JBG record
    stays in the ``details`` note (a registered 2.1 extension for JBG does not exist)."""
    r = jbg_record(report)
    doc = to_csaf(report, publisher)
    doc = {"$schema": "https://docs.oasis-open.org/csaf/csaf/v2.1/schema/csaf.json", **doc}
    doc["document"]["csaf_version"] = "2.1"
    doc["document"]["title"] = str(r["title"])
    rating = str(r["label"] or "none").lower()
    if rating not in {"critical", "high", "medium", "low", "none"}:
        rating = "none"
    for v in doc.get("vulnerabilities") or []:
        v["metrics"] = [
            {
                "content": {"qualitative_severity_rating": rating},
                "products": list(v["product_status"]["known_affected"]),
                "source": f"urn:jbgrade:case:{r['case_id']}",
            }
        ]
    return doc
