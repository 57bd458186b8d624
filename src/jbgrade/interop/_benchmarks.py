"""JailbreakBench attack artifacts and HarmBench classified completions -> attempts.

JailbreakBench artifact::

    {parameters: {method, model, attack_type, defense, evaluation_llm_provider, ...},
     jailbreaks: [{index, goal, behavior, category, prompt, response, jailbroken, ...}]}

One attempt per jailbreak record; ``category`` maps to a JBG domain through
jbgrade's versioned table (``domain_map.json``, source ``jailbreakbench``);
``jailbroken`` is the benchmark judge's verdict. A record whose ``prompt`` is
null was not submitted and is stored as an error.

HarmBench completions (``generate_completions.py``) and classified completions
(``evaluate_completions.py``, which adds ``label``)::

    {behavior_id: [{test_case, generation, label (0/1)?, advbench_label?}, ...]}

A completion without ``label`` was never classified, and ``label: -1`` is HarmBench's
"classifier answered neither yes nor no": both are stored as errors ("not classified"),
a gap note counts them, and neither is ever read as a refusal.

The file names neither model nor method: the mapping supplies ``model`` and
``attack``; domains come from ``behaviours:`` (HarmBench's behaviour CSV, read
by jbgrade's loader) or ``domains:``. Both are streamed with ijson.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jbgrade._errors import InputError
from jbgrade.behaviours import domain_table
from jbgrade.interop._sink import ImportSink, Source, file_sha256
from jbgrade.records import ChatMessage

__all__ = ["import_harmbench", "import_jailbreakbench"]


def _first(path: Path, prefix: str) -> Any:
    import ijson

    with path.open("rb") as fh:
        try:
            for obj in ijson.items(fh, prefix, use_float=True):
                return obj
        except ijson.JSONError as exc:
            raise InputError(f"not JSON ({exc})", path=str(path), field=prefix) from None
    return None


def import_jailbreakbench(path: Path, sink_factory: Any) -> Any:
    import ijson

    name = str(path)
    params = _first(path, "parameters")
    if not isinstance(params, dict):
        raise InputError("missing or not an object", path=name, field="parameters")
    for key in ("method", "model"):
        if not isinstance(params.get(key), str):
            raise InputError("missing or not a string", path=name, field=f"parameters.{key}")
    table = {k.strip().lower(): v for k, v in domain_table()["jailbreakbench"]["map"].items()}
    sink: ImportSink = sink_factory(Source("jailbreakbench", path, file_sha256(path), None))
    judge = str(params.get("evaluation_llm_provider") or "judge")
    method = str(params["method"])
    kind = "manual" if str(params.get("attack_type", "")).lower() == "manual" else "template"
    n = 0
    try:
        target = sink.target(params["model"])
        with path.open("rb") as fh:
            try:
                for i, jb in enumerate(ijson.items(fh, "jailbreaks.item", use_float=True)):
                    n += 1
                    _jbb_record(
                        sink, jb, f"jailbreaks[{i}]", name, target, method, kind, judge, table
                    )
            except ijson.JSONError as exc:
                raise InputError(f"not JSON ({exc})", path=name, field="jailbreaks") from None
    except BaseException:
        sink.abort()
        raise
    if n == 0:
        sink.abort()
        raise InputError("no jailbreak records", path=name, field="jailbreaks")
    sink.note(
        "tool-version",
        "a JailbreakBench artifact does not record the package version; the evaluation "
        f"date is {params.get('evaluation_date')!s}",
    )
    return sink.finish(
        {
            "parameters": {
                k: params.get(k)
                for k in (
                    "method",
                    "model",
                    "attack_type",
                    "defense",
                    "attack_success_rate",
                    "total_number_of_jailbreaks",
                    "evaluation_date",
                    "evaluation_llm_provider",
                )
            }
        }
    )


def _jbb_record(  # noqa: PLR0917
    sink: ImportSink,
    jb: Any,
    field: str,
    name: str,
    target: Any,
    method: str,
    kind: str,
    judge: str,
    table: dict[str, str],
) -> None:
    if not isinstance(jb, dict):
        raise InputError("not an object", path=name, field=field)
    if "jailbroken" not in jb:
        raise InputError("missing", path=name, field=f"{field}.jailbroken")
    if not isinstance(jb["jailbroken"], bool):
        raise InputError("must be true or false", path=name, field=f"{field}.jailbroken")
    behaviour = str(jb.get("behavior") or jb.get("index") or field)
    category = jb.get("category") if isinstance(jb.get("category"), str) else None
    prompt = jb.get("prompt")
    rid = f"index-{jb.get('index')}"
    submitted = isinstance(prompt, str)
    verdicts = (
        [
            sink.verdict(
                judge,
                1.0 if jb["jailbroken"] else 0.0,
                record_id=rid,
                explanation=f"JailbreakBench judge ({judge}): jailbroken={jb['jailbroken']}",
            )
        ]
        if submitted
        else []
    )
    sink.add(
        target=target,
        attack=method,
        attack_kind=kind,
        behaviour_id=behaviour,
        category=category,
        source_domain=table.get(category.strip().lower()) if category else None,
        sample=None,
        messages=[ChatMessage(role="user", content=prompt if isinstance(prompt, str) else "")],
        response=jb.get("response") if isinstance(jb.get("response"), str) else None,
        verdicts=verdicts,
        success=jb["jailbroken"] if submitted else None,
        record_id=rid,
        error=None if submitted else "no prompt submitted for this behaviour",
    )


def import_harmbench(path: Path, sink_factory: Any) -> Any:
    import ijson

    name = str(path)
    sink: ImportSink = sink_factory(Source("harmbench", path, file_sha256(path), None))
    attack = sink.map.attack or "harmbench"
    if sink.map.attack is None:
        sink.note(
            "attack",
            "HarmBench completions do not name the attack: recorded as "
            "'harmbench'; give attack: in the mapping file",
        )
    n = unlabelled = 0
    try:
        target = sink.target(sink.map.model or (sink.map.target.model if sink.map.target else None))
        with path.open("rb") as fh:
            try:
                for behaviour_id, items in ijson.kvitems(fh, "", use_float=True):
                    if not isinstance(items, list):
                        raise InputError("must be a list", path=name, field=behaviour_id)
                    for j, it in enumerate(items):
                        n += 1
                        unlabelled += not _hb_item(
                            sink, it, f"{behaviour_id}[{j}]", name, target, attack, behaviour_id, j
                        )
            except ijson.JSONError as exc:
                raise InputError(f"not JSON ({exc})", path=name) from None
    except BaseException:
        sink.abort()
        raise
    if n == 0:
        sink.abort()
        raise InputError("no completions", path=name)
    sink.note("tool-version", "HarmBench result files do not record the HarmBench version")
    if unlabelled:
        sink.note(
            "verdicts",
            f"{unlabelled} of {n} HarmBench completions carry no classifier verdict (no "
            "label: evaluate_completions.py was not run on them; or label -1): stored "
            "as unclassified errors, never counted as refusals or successes",
        )
    return sink.finish()


#: Why a completion has no decisive verdict, by its ``label`` (absent, or HarmBench's -1:
#: the classifier answered neither "yes" nor "no"; HarmBench's own ASR counts it as a
#: failure, jbgrade keeps it out of the rates as an error).
_HB_UNCLASSIFIED: dict[Any, str] = {
    None: "not classified (no label)",
    -1: "not classified (HarmBench classifier label -1: answer neither yes nor no)",
    0: "not classified (the mapping's detectors exclude the classifier)",
    1: "not classified (the mapping's detectors exclude the classifier)",
}


def _hb_item(  # noqa: PLR0917
    sink: ImportSink, it: Any, field: str, name: str, target: Any, attack: str, bid: str, j: int
) -> bool:
    """Add one completion; whether it carried a classifier label."""
    if not isinstance(it, dict):
        raise InputError("not an object", path=name, field=field)
    for key in ("test_case", "generation"):
        if not isinstance(it.get(key), str):
            raise InputError("missing or not a string", path=name, field=f"{field}.{key}")
    label = it.get("label")
    if label is not None and (isinstance(label, bool) or label not in (0, 1, -1)):
        raise InputError("must be 0, 1 or -1", path=name, field=f"{field}.label")
    rid = f"{bid}/{j}"
    verdicts = []
    if label in (0, 1):
        verdicts.append(
            sink.verdict(
                "harmbench-classifier",
                float(label),
                record_id=rid,
                explanation=f"HarmBench classifier label {label}",
            )
        )
    if isinstance(it.get("advbench_label"), int):
        verdicts.append(
            sink.verdict(
                "advbench-refusal-match",
                float(it["advbench_label"]),
                record_id=rid,
                explanation="AdvBench refusal-string label",
            )
        )
    decisive = [v for v in verdicts if sink.decides(str(v.spec["detector"]))]
    if not sink.map.detectors and len(decisive) > 1:
        decisive = decisive[:1]  # the classifier decides unless the mapping says otherwise
    sink.add(
        target=target,
        attack=attack,
        attack_kind="template",
        behaviour_id=bid,
        category=None,
        sample=None,
        messages=[ChatMessage(role="user", content=it["test_case"])],
        response=it["generation"],
        verdicts=verdicts,
        success=decisive[0].success if decisive else None,
        record_id=rid,
        error=None if decisive else _HB_UNCLASSIFIED[label],
    )
    return label in (0, 1)
