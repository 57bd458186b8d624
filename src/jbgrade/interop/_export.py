"""Exports of an assessment report: STIX 2.1 bundles and CSAF 2.0 advisories.

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

import json
import uuid
from importlib import resources
from typing import Any

from jbgrade import __version__
from jbgrade._errors import InputError

__all__ = ["EXPORTS", "JBG_EXTENSION_ID", "atlas_techniques", "export_report", "jbg_record"]

_NS = uuid.UUID("6f1c4b52-7a0e-4c59-9d3e-0b1a5e2f9c11")
#: The published JBG property extension (stable id; its schema is `jbgrade schema show stix-jbg`).
JBG_EXTENSION_ID = "extension-definition--" + str(uuid.uuid5(_NS, "jbgrade-jbg-extension-1"))
_IDENTITY = "identity--" + str(uuid.uuid5(_NS, "jbgrade"))
_TS = "2026-01-01T00:00:00.000Z"


def _atlas_table() -> dict[str, Any]:
    text = resources.files("jbgrade.interop").joinpath("data/atlas.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def atlas_techniques(kind: str | None, name: str | None = None) -> list[str]:
    """ATLAS technique ids for an attack (always including AML.T0054 LLM Jailbreak)."""
    t = _atlas_table()
    got: list[str] = []
    for key in (kind, name):
        if key and key.lower() in t["by_kind"]:
            got = list(t["by_kind"][key.lower()])
            break
    out = list(t["default"])
    out += [g for g in got if g not in out]
    return out


def jbg_record(report: dict[str, Any]) -> dict[str, Any]:
    """The fields every export round-trips, from a report.json."""
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
    return {
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
        "atlas": atlas_techniques(attack.get("kind"), attack.get("name")),
        "decisions": decisions,
        "models": [
            {"id": m.get("id"), "vendor": m.get("vendor")} for m in case.get("models") or []
        ],
    }


def _sid(kind: str, *parts: str) -> str:
    return f"{kind}--{uuid.uuid5(_NS, '/'.join([kind, *parts]))}"


def to_stix(report: dict[str, Any]) -> dict[str, Any]:
    """A STIX 2.1 bundle: identity, JBG extension-definition, vulnerability, attack-pattern(s)."""
    r = jbg_record(report)
    names = _atlas_table()["names"]
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
        "schema": "https://jbgrade.invalid/schema/stix-jbg-extension-1.json",
        "version": "1.0.0",
        "extension_types": ["property-extension"],
    }
    vid = _sid("vulnerability", r["case_id"])
    vuln = {
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
            }
        },
    }
    objs: list[dict[str, Any]] = [ident, ext_def, vuln]
    for tid in r["atlas"]:
        aid = _sid("attack-pattern", r["case_id"], tid)
        objs.append(
            {
                "type": "attack-pattern",
                "spec_version": "2.1",
                "id": aid,
                "created_by_ref": _IDENTITY,
                "created": _TS,
                "modified": _TS,
                "name": names.get(tid, tid),
                "external_references": [
                    {
                        "source_name": "mitre-atlas",
                        "external_id": tid,
                        "url": f"https://atlas.mitre.org/techniques/{tid}",
                    }
                ],
            }
        )
        objs.append(
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
            }
        )
    return {"type": "bundle", "id": _sid("bundle", r["case_id"]), "objects": objs}


def to_csaf(report: dict[str, Any]) -> dict[str, Any]:
    """A CSAF 2.0 ``csaf_base`` document carrying the JBG record."""
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
    notes = [
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
    vendors = sorted({str(m["vendor"]) for m in r["models"] if m.get("vendor")})
    doc: dict[str, Any] = {
        "document": {
            "category": "csaf_base",
            "csaf_version": "2.0",
            "distribution": {"tlp": {"label": "AMBER"}},
            "lang": "en",
            "title": f"{r['case_id']}: {r['title']}",
            "aggregate_severity": {
                "namespace": "https://jbgrade.invalid/jbg",
                "text": str(r["label"]),
            },
            "notes": notes,
            "publisher": {
                "category": "other",
                "name": "jbgrade",
                "namespace": "https://jbgrade.invalid",
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
        doc["vulnerabilities"] = [
            {
                "ids": [{"system_name": "jbgrade", "text": r["case_id"]}],
                "title": r["title"],
                "notes": [{"category": "description", "text": notes[0]["text"]}],
                "product_status": {"known_affected": pids},
                "threats": [
                    {"category": "impact", "details": notes[0]["text"], "product_ids": pids}
                ],
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
        ]
    return doc


EXPORTS = {"stix": to_stix, "csaf": to_csaf}


def export_report(fmt: str, report: dict[str, Any]) -> dict[str, Any]:
    """Export a report.json (as a dict) to ``fmt``."""
    if fmt not in EXPORTS:
        raise InputError(
            f"unknown export format {fmt!r}; known: {', '.join(EXPORTS)}", field="FORMAT"
        )
    return EXPORTS[fmt](report)
