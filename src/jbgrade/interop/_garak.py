"""garak's report JSONL (``<prefix>.report.jsonl``) -> attempts.

One JSON object per line, told apart by ``entry_type``. ``start_run setup``
carries the flattened config (``plugins.target_name``), ``init`` the garak
version, ``attempt`` one prompt with its outputs and each detector's score per
output (1 = hit: the probe got what it wanted). garak writes an attempt twice,
once with ``status`` 1 (generated) and once with 2 (evaluated); only status 2
is read. Each output becomes one jbgrade attempt (sample = output index), with
one verdict per detector; the attempt succeeds when any detector scores a hit
(garak's own threshold, 0.5, unless the mapping says otherwise). ``eval``
records (garak's per probe x detector counts) are kept in the manifest so the
import can be checked against them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jbgrade._errors import InputError
from jbgrade.interop._sink import ImportSink, Source
from jbgrade.records import ChatMessage

__all__ = ["import_garak"]

_ROLES = {"user", "assistant", "system", "tool"}


def _text(x: Any) -> str | None:
    """A garak Message ({text: ...}) or a plain string (older reports)."""
    if x is None:
        return None
    if isinstance(x, str):
        return x
    if isinstance(x, dict):
        t = x.get("text")
        return t if isinstance(t, str) or t is None else str(t)
    raise ValueError("not a message")


def _messages(prompt: Any) -> list[ChatMessage]:
    if isinstance(prompt, str):
        return [ChatMessage(role="user", content=prompt)]
    if isinstance(prompt, dict) and isinstance(prompt.get("turns"), list):
        out = []
        for turn in prompt["turns"]:
            role = turn.get("role", "user")
            out.append(
                ChatMessage(
                    role=role if role in _ROLES else "user",
                    content=_text(turn.get("content")) or "",
                )
            )
        return out
    raise ValueError("prompt is neither a string nor a conversation")


def import_garak(path: Path, sink_factory: Any) -> Any:
    """Stream a garak report into a sink made by ``sink_factory(Source)``."""
    from jbgrade.interop._sink import file_sha256

    sha = file_sha256(path)
    name = str(path)
    setup: dict[str, Any] = {}
    run: str | None = None
    version: str | None = None
    sink: ImportSink | None = None
    evals: list[dict[str, Any]] = []
    try:
        with path.open("rb") as fh:
            for n, raw in enumerate(fh, start=1):
                if not raw.strip():
                    continue
                try:
                    rec = json.loads(raw)
                except ValueError as exc:
                    raise InputError(f"not a JSON line ({exc})", path=name, line=n) from None
                if not isinstance(rec, dict) or "entry_type" not in rec:
                    raise InputError("not a garak record", path=name, line=n, field="entry_type")
                kind = rec["entry_type"]
                if kind == "start_run setup":
                    setup = rec
                    version = version or rec.get("_config.version")
                elif kind == "init":
                    version = rec.get("garak_version") or version
                    run = rec.get("run")
                elif kind == "eval":
                    evals.append(
                        {
                            k: rec.get(k)
                            for k in (
                                "probe",
                                "detector",
                                "passed",
                                "fails",
                                "nones",
                                "total_evaluated",
                            )
                        }
                    )
                elif kind == "attempt" and rec.get("status") == 2:
                    if sink is None:
                        sink = sink_factory(Source("garak", path, sha, version))
                    _attempt(sink, rec, setup, name, n)
    except BaseException:
        if sink is not None:
            sink.abort()
        raise
    if sink is None:
        raise InputError("no evaluated attempt records (entry_type attempt, status 2)", path=name)
    return sink.finish({"garak_evals": evals, "run": run})


def _attempt(
    sink: ImportSink, rec: dict[str, Any], setup: dict[str, Any], name: str, n: int
) -> None:
    def need(key: str) -> Any:
        if key not in rec:
            raise InputError("missing", path=name, line=n, field=key)
        return rec[key]

    probe = need("probe_classname")
    if not isinstance(probe, str):
        raise InputError("must be a string", path=name, line=n, field="probe_classname")
    outputs = need("outputs")
    if not isinstance(outputs, list):
        raise InputError("must be a list", path=name, line=n, field="outputs")
    results = rec.get("detector_results") or {}
    if not isinstance(results, dict):
        raise InputError("must be an object", path=name, line=n, field="detector_results")
    try:
        messages = _messages(need("prompt"))
    except ValueError as exc:
        raise InputError(str(exc), path=name, line=n, field="prompt") from None
    uuid = str(rec.get("uuid") or f"line-{n}")
    model = setup.get("plugins.target_name") or setup.get("plugins.model_name")
    target = sink.target(model)
    seq = rec.get("seq", 0)
    behaviour = f"{probe}#{seq}"
    intent = rec.get("intent")
    for i, out in enumerate(outputs):
        try:
            response = _text(out)
        except ValueError:
            raise InputError("not a message", path=name, line=n, field=f"outputs[{i}]") from None
        verdicts = []
        for det, scores in results.items():
            if not isinstance(scores, list) or i >= len(scores):
                raise InputError(
                    f"needs a score per output ({len(outputs)})",
                    path=name,
                    line=n,
                    field=f"detector_results.{det}",
                )
            s = scores[i]
            if s is None:
                continue
            if not isinstance(s, int | float):
                raise InputError(
                    "score must be a number",
                    path=name,
                    line=n,
                    field=f"detector_results.{det}[{i}]",
                )
            verdicts.append(
                sink.verdict(
                    det,
                    float(s),
                    record_id=f"{uuid}/{i}",
                    explanation=f"garak detector {det} scored {s} (1 = hit)",
                )
            )
        decisive = [v for v in verdicts if sink.decides(str(v.spec["detector"]))]
        success = any(v.success for v in decisive) if decisive else None
        sink.add(
            target=target,
            attack=probe,
            attack_kind="template",
            behaviour_id=behaviour,
            category=intent if isinstance(intent, str) and intent else None,
            sample=i,
            messages=messages,
            response=response,
            verdicts=verdicts,
            success=success,
            record_id=f"{uuid}/{i}",
            error=None if response is not None else "no output",
        )
