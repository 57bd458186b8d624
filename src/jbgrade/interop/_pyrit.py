"""PyRIT's SQLite memory (``pyrit.db``) -> attempts, read with SQLAlchemy (PyRIT not needed).

Tables of PyRIT 1.x (``pyrit/memory/memory_models.py``): ``AttackResultEntries``
(one row per attack run: conversation_id, objective, outcome
success/failure/error/undetermined, labels, targeted_harm_categories,
pyrit_version), ``PromptMemoryEntries`` (the conversation's messages by
sequence) and ``ScoreEntries`` (scores of a response, with the scorer's class).
Each attack result is one attempt: the memory label ``strategy`` (else the
attack's class) is the attack, the outcome is PyRIT's verdict and each score a
further verdict naming its scorer. Rows are read in batches.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jbgrade._errors import InputError
from jbgrade.interop._sink import ImportSink, Source, file_sha256
from jbgrade.records import ChatMessage, Verdict

__all__ = ["import_pyrit"]

_ROLES = {"user", "assistant", "system", "tool"}


def _json(v: Any) -> Any:
    if isinstance(v, str):
        try:
            return json.loads(v)
        except ValueError:
            return v
    return v


def import_pyrit(path: Path, sink_factory: Any) -> Any:
    try:
        import sqlalchemy as sa
    except ImportError:  # pragma: no cover
        raise InputError("reading PyRIT memory needs SQLAlchemy: install jbgrade[server]") from None
    name = str(path)
    with path.open("rb") as fh:
        if fh.read(16) != b"SQLite format 3\x00":
            raise InputError("not an SQLite database", path=name)
    engine = sa.create_engine(f"sqlite:///file:{path.resolve()}?mode=ro&uri=true")
    try:
        md = sa.MetaData()
        try:
            md.reflect(engine, only=["AttackResultEntries", "PromptMemoryEntries", "ScoreEntries"])
        except sa.exc.InvalidRequestError as exc:
            raise InputError(f"not a PyRIT memory database ({exc})", path=name) from None
        ar, pm, sc = (
            md.tables[t] for t in ("AttackResultEntries", "PromptMemoryEntries", "ScoreEntries")
        )
        with engine.connect() as conn:
            version = conn.execute(sa.select(ar.c.pyrit_version).limit(1)).scalar()
            sink: ImportSink = sink_factory(Source("pyrit", path, file_sha256(path), version))
            n = 0
            try:
                rows = conn.execution_options(stream_results=True, yield_per=500).execute(
                    sa.select(ar).order_by(ar.c.timestamp, ar.c.id)
                )
                for row in rows.mappings():
                    n += 1
                    _result(sink, conn, sa, pm, sc, dict(row), name)
            except BaseException:
                sink.abort()
                raise
            if n == 0:
                sink.abort()
                raise InputError("no attack results", path=name, field="AttackResultEntries")
            return sink.finish()
    finally:
        engine.dispose()


def _conversation(
    conn: Any, sa: Any, pm: Any, conv: Any
) -> tuple[list[ChatMessage], str | None, Any]:
    """The messages sent in a conversation, the last reply, and that reply's id."""
    msgs = conn.execute(
        sa.select(pm.c.id, pm.c.role, pm.c.converted_value, pm.c.response_error)
        .where(pm.c.conversation_id == conv)
        .order_by(pm.c.sequence)
    ).all()
    sent: list[ChatMessage] = []
    response: str | None = None
    last_id = None
    for m in msgs:
        if m.role == "assistant":
            response, last_id = m.converted_value, m.id
        else:
            sent.append(
                ChatMessage(
                    role=m.role if m.role in _ROLES else "user", content=m.converted_value or ""
                )
            )
    return sent, response, last_id


def _scores(sink: ImportSink, conn: Any, sa: Any, sc: Any, reply_id: Any) -> list[Verdict]:
    """PyRIT's scores of one reply, each as a verdict of its scorer."""
    out: list[Verdict] = []
    for s in conn.execute(
        sa.select(sc).where(sc.c.prompt_request_response_id == reply_id)
    ).mappings():
        cls = _json(s["scorer_class_identifier"]) or {}
        scorer = cls.get("class_name", "scorer") if isinstance(cls, dict) else str(cls)
        val = s["score_value"]
        v = 1.0 if val == "true" else 0.0 if val == "false" else float(val)
        out.append(
            sink.verdict(
                scorer,
                v,
                record_id=str(s["id"]),
                explanation=str(s["score_rationale"] or "")[:500],
            )
        )
    return out


def _result(  # noqa: PLR0917 - internal helper
    sink: ImportSink, conn: Any, sa: Any, pm: Any, sc: Any, row: dict[str, Any], name: str
) -> None:
    rid = str(row["id"])
    where = f"{name}: AttackResultEntries[{rid}]"
    conv = row.get("conversation_id")
    if not conv:
        raise InputError("missing", path=where, field="conversation_id")
    outcome = row.get("outcome")
    if outcome not in ("success", "failure", "error", "undetermined"):
        raise InputError(f"unknown outcome {outcome!r}", path=where, field="outcome")
    labels = _json(row.get("labels")) or {}
    if not isinstance(labels, dict):
        labels = {}
    ident = _json(row.get("atomic_attack_identifier")) or {}
    attack = str(
        labels.get("strategy")
        or (ident.get("class_name") if isinstance(ident, dict) else None)
        or "pyrit"
    )
    sent, response, last_id = _conversation(conn, sa, pm, conv)
    verdicts = [
        sink.verdict(
            "outcome",
            1.0 if outcome == "success" else 0.0,
            record_id=rid,
            success=outcome == "success",
            explanation=str(row.get("outcome_reason") or f"PyRIT outcome {outcome}")[:500],
            extra={"outcome": outcome},
        )
    ]
    if last_id is not None:
        verdicts.extend(_scores(sink, conn, sa, sc, last_id))
    cats = _json(row.get("targeted_harm_categories"))
    category = cats[0] if isinstance(cats, list) and cats else None
    undecided = outcome in ("error", "undetermined")
    sink.add(
        target=sink.target(None),
        attack=attack,
        attack_kind="multi_turn" if (row.get("executed_turns") or 1) > 1 else "template",
        behaviour_id=str(
            labels.get("behaviour") or f"objective-{str(row.get('objective_sha256') or '')[:16]}"
        ),
        category=category,
        sample=None,
        messages=sent,
        response=response,
        verdicts=verdicts,
        success=None if undecided else outcome == "success",
        record_id=rid,
        error=(str(row.get("error_message") or outcome) if undecided else None),
    )
