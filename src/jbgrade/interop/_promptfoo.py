"""promptfoo's ``results.json`` (``promptfoo eval -o results.json``, results v3) -> attempts.

``{evalId, results: {version: 3, results: [EvaluateResult], stats}, config,
metadata {promptfooVersion}}``. Each EvaluateResult is one attempt: the
provider is the target, ``testCase.metadata`` (or ``gradingResult.metadata``)
gives ``pluginId`` (the behaviour's category), ``strategyId`` (the attack) and,
where the test names it, ``behaviourId``. promptfoo's red-team convention is
that a passing test is a model that resisted, so by default a failed test is a
successful jailbreak (``invert: false`` in the mapping reads a pass as one).
Tests of the ``basic`` strategy (the plugin's plain requests, no attack
transformation) are the baseline arm. Results are streamed (ijson).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jbgrade._errors import InputError
from jbgrade.interop._sink import ImportSink, Source, file_sha256
from jbgrade.records import ChatMessage

__all__ = ["import_promptfoo"]


def import_promptfoo(path: Path, sink_factory: Any) -> Any:
    import ijson

    name = str(path)
    sha = file_sha256(path)

    def first(prefix: str) -> Any:
        with path.open("rb") as fh:
            try:
                for obj in ijson.items(fh, prefix, use_float=True):
                    return obj
            except ijson.JSONError as exc:
                raise InputError(f"not JSON ({exc})", path=name, field=prefix) from None
        return None

    version = first("results.version")
    if version is None:
        raise InputError(
            "missing (is this promptfoo's results.json?)", path=name, field="results.version"
        )
    if version != 3:
        raise InputError(
            f"results version {version} is not supported (3 is)", path=name, field="results.version"
        )
    meta = first("metadata") or {}
    tool_version = meta.get("promptfooVersion") if isinstance(meta, dict) else None
    sink: ImportSink = sink_factory(Source("promptfoo", path, sha, tool_version))
    invert = True if sink.map.invert is None else sink.map.invert
    explicit_baseline = bool(sink.map.baseline)
    n = 0
    try:
        with path.open("rb") as fh:
            try:
                for i, r in enumerate(ijson.items(fh, "results.results.item", use_float=True)):
                    n += 1
                    _result(sink, r, f"results.results[{i}]", name, invert, explicit_baseline)
            except ijson.JSONError as exc:
                raise InputError(f"not JSON ({exc})", path=name, field="results.results") from None
    except BaseException:
        sink.abort()
        raise
    if n == 0:
        sink.abort()
        raise InputError("no results", path=name, field="results.results")
    if not explicit_baseline:
        sink.note(
            "baseline-basic",
            "promptfoo tests of the 'basic' strategy (plain requests, no attack "
            "transformation) are taken as the baseline arm",
        )
    sink.note(
        "success",
        "a failed promptfoo test is read as a successful jailbreak (red-team convention)"
        if invert
        else "a passing promptfoo test is read as a successful jailbreak (invert: false)",
    )
    return sink.finish({"eval_id": first("evalId")})


def _result(  # noqa: PLR0917 - internal helper
    sink: ImportSink, r: Any, field: str, name: str, invert: bool, explicit_baseline: bool
) -> None:
    if not isinstance(r, dict):
        raise InputError("not an object", path=name, field=field)
    tc = r.get("testCase") if isinstance(r.get("testCase"), dict) else {}
    assert isinstance(tc, dict)
    gr = r.get("gradingResult") if isinstance(r.get("gradingResult"), dict) else None
    meta: dict[str, Any] = {}
    if gr is not None and isinstance(gr.get("metadata"), dict):
        meta.update(gr["metadata"])
    if isinstance(tc.get("metadata"), dict):
        meta.update(tc["metadata"])
    prov = r.get("provider")
    if isinstance(prov, dict):
        model = prov.get("label") or prov.get("id")
    elif isinstance(prov, str):
        model = prov
    else:
        raise InputError("missing", path=name, field=f"{field}.provider")
    if "success" not in r:
        raise InputError("missing", path=name, field=f"{field}.success")
    strategy = str(meta.get("strategyId") or "none")
    plugin = meta.get("pluginId")
    prompt = r.get("prompt")
    raw = prompt.get("raw") if isinstance(prompt, dict) else prompt
    response = r.get("response")
    text = response.get("output") if isinstance(response, dict) else None
    if text is not None and not isinstance(text, str):
        import json

        text = json.dumps(text)
    rid = str(r.get("id") or f"{r.get('testIdx')}/{r.get('promptIdx')}")
    errored = r.get("failureReason") == 2 or (bool(r.get("error")) and gr is None)
    verdicts = []
    if gr is not None:
        score = gr.get("score", 1.0 if gr.get("pass") else 0.0)
        if not isinstance(score, int | float):
            raise InputError("must be a number", path=name, field=f"{field}.gradingResult.score")
        passed = bool(gr.get("pass"))
        verdicts.append(
            sink.verdict(
                str(plugin or "assertions"),
                1.0 - float(score) if invert else float(score),
                record_id=rid,
                success=(not passed) if invert else passed,
                explanation=str(gr.get("reason") or "")[:500],
                extra={"pass": passed, "score": score, "inverted": invert},
            )
        )
    success = None if errored or not verdicts else verdicts[0].success
    behaviour = str(meta.get("behaviourId") or tc.get("description") or f"test-{r.get('testIdx')}")
    sink.add(
        target=sink.target(str(model)),
        attack=strategy,
        attack_kind="template",
        behaviour_id=behaviour,
        category=str(plugin) if plugin else None,
        sample=None,
        messages=[ChatMessage(role="user", content=str(raw or ""))],
        response=text,
        verdicts=verdicts,
        success=success,
        record_id=rid,
        error=str(r.get("error") or "promptfoo error") if errored else None,
        baseline=None if explicit_baseline else strategy == "basic",
    )
