"""The hash-chained audit log: append, and verify against the chain and the data.

Every write of the registry appends one entry per object it creates or changes:
``(seq, at, actor, action, object type and id, case id, SHA-256 of the object's
canonical new state, previous entry's hash, this entry's hash)``. The entry hash
covers all the other fields, so editing any field, deleting, inserting or
reordering entries breaks a link that :func:`verify_chain` names.

The chain is also bound to the data: the latest entry of every object must carry
the hash of the object's current state, immutable objects (assessments,
evidence, decisions, lifecycle moves) must have exactly one entry, and every row
must have one. So a row edited, inserted or deleted behind the registry's back
is found too, as is a cut tail (the ``audit_head`` row records the last link).

What a chain cannot do is stop someone who can rewrite the whole log and every
row consistently; for that, keep the head hash printed by ``jbgrade audit
verify`` somewhere else (``--anchor SEQ:HASH`` checks it later). On PostgreSQL,
the application role cannot UPDATE or DELETE audit rows at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from jbgrade.registry._models import (
    ApiToken,
    Assessment,
    AuditEntry,
    AuditHead,
    Base,
    Case,
    CaseGrant,
    CaseTransition,
    Decision,
    Evidence,
    Organization,
    Reconciliation,
    User,
    audit_state_of,
)
from jbgrade.registry._util import canonical_json, iso_utc, sha256_hex

__all__ = [
    "GENESIS",
    "OBJECT_TYPES",
    "AuditProblem",
    "AuditReport",
    "append",
    "entry_hash",
    "state_hash",
    "verify_chain",
]

GENESIS = "0" * 64

# object type -> (model, immutable)
OBJECT_TYPES: dict[str, tuple[type[Base], bool]] = {
    "organization": (Organization, False),
    "user": (User, False),
    "token": (ApiToken, False),
    "case": (Case, False),
    "grant": (CaseGrant, False),
    "transition": (CaseTransition, True),
    "assessment": (Assessment, True),
    "evidence": (Evidence, True),
    "decision": (Decision, True),
    "reconciliation": (Reconciliation, True),
}
_TYPE_OF: dict[type[Base], str] = {m: t for t, (m, _) in OBJECT_TYPES.items()}


def state_hash(obj: Any) -> str:
    """SHA-256 of the canonical JSON of an object's audited state."""
    return sha256_hex(canonical_json(obj.audit_state()))


def entry_hash(
    *,
    seq: int,
    at: datetime,
    actor_id: str,
    actor_org_id: str | None,
    action: str,
    object_type: str,
    object_id: str,
    case_id: str | None,
    state_sha256: str,
    prev_sha256: str,
) -> str:
    """The hash that links an entry: over every field but itself."""
    return sha256_hex(
        canonical_json(
            {
                "seq": seq,
                "at": iso_utc(at),
                "actor_id": actor_id,
                "actor_org_id": actor_org_id,
                "action": action,
                "object_type": object_type,
                "object_id": object_id,
                "case_id": case_id,
                "state_sha256": state_sha256,
                "prev_sha256": prev_sha256,
            }
        )
    )


def _hash_of(e: Any) -> str:
    return entry_hash(
        seq=e.seq,
        at=e.at,
        actor_id=e.actor_id,
        actor_org_id=e.actor_org_id,
        action=e.action,
        object_type=e.object_type,
        object_id=e.object_id,
        case_id=e.case_id,
        state_sha256=e.state_sha256,
        prev_sha256=e.prev_sha256,
    )


def append(
    session: Session,
    *,
    at: datetime,
    actor_id: str,
    actor_org_id: str | None,
    action: str,
    obj: Any,
    case_id: str | None = None,
) -> AuditEntry:
    """Append one entry for ``obj`` (flushed, so its state is final) in ``session``'s
    transaction. The head row is locked (FOR UPDATE on PostgreSQL; SQLite writers
    hold the database lock), so concurrent writers get consecutive links."""
    session.flush()
    head = session.execute(
        sa.select(AuditHead).where(AuditHead.id == 1).with_for_update()
    ).scalar_one()
    fields: dict[str, Any] = {
        "seq": head.seq + 1,
        "at": at,
        "actor_id": actor_id,
        "actor_org_id": actor_org_id,
        "action": action,
        "object_type": _TYPE_OF[type(obj)],
        "object_id": obj.id,
        "case_id": case_id,
        "state_sha256": state_hash(obj),
        "prev_sha256": head.entry_sha256,
    }
    h = entry_hash(**fields)
    entry = AuditEntry(**fields, entry_sha256=h)
    session.add(entry)
    head.seq = entry.seq
    head.entry_sha256 = h
    session.flush()
    return entry


@dataclass(frozen=True, slots=True)
class AuditProblem:
    """One broken link or binding; ``seq`` is the audit entry concerned, if any."""

    seq: int | None
    kind: str  # edited | link | gap | reordered | head | state | unaudited | missing_row | ...
    message: str

    def __str__(self) -> str:
        where = f"seq {self.seq}" if self.seq is not None else "registry"
        return f"{where}: {self.message}"


@dataclass(frozen=True, slots=True)
class AuditReport:
    """The verdict of :func:`verify_chain`."""

    entries: int
    head_seq: int
    head_sha256: str
    objects_checked: int
    problems: tuple[AuditProblem, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first(self) -> AuditProblem | None:
        """The first broken link (lowest seq), if any."""
        return self.problems[0] if self.problems else None

    def summary(self) -> str:
        if self.ok:
            return (
                f"audit chain intact: {self.entries} entries, head seq {self.head_seq} "
                f"{self.head_sha256}, {self.objects_checked} objects match their latest entry"
            )
        return f"audit chain BROKEN: {len(self.problems)} problem(s); first: {self.problems[0]}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "head_seq": self.head_seq,
            "head_sha256": self.head_sha256,
            "objects_checked": self.objects_checked,
            "problems": [
                {"seq": p.seq, "kind": p.kind, "message": p.message} for p in self.problems
            ],
        }


def _entries(session: Session) -> Iterator[Any]:
    # Plain rows, not ORM objects: verify reads every entry and every object.
    stmt = sa.select(AuditEntry.__table__).order_by(AuditEntry.seq)
    yield from session.execute(stmt.execution_options(yield_per=5000))


@dataclass
class _Walk:
    """What one pass over the log in ``seq`` order finds."""

    problems: list[AuditProblem] = field(default_factory=list)
    # (object type, id) -> (seq, state hash) of its latest entry; content entries per object.
    latest: dict[tuple[str, str], tuple[int, str]] = field(default_factory=dict)
    counts: dict[tuple[str, str], int] = field(default_factory=dict)
    seen_hash_at: dict[str, int] = field(default_factory=dict)
    entries: int = 0
    prev_seq: int = 0
    prev_hash: str = GENESIS


def _link_problem(w: _Walk, e: Any, recomputed: str) -> AuditProblem:
    """Why ``e.prev_sha256`` does not name the previous entry: reordered, inserted, replaced."""
    if e.prev_sha256 in w.seen_hash_at:
        m = w.seen_hash_at[e.prev_sha256]
        msg = (
            f"prev_sha256 points to seq {m}, not seq {w.prev_seq}: "
            + (
                f"seq {m + 1} was inserted"
                if m + 1 == w.prev_seq
                else f"seq {m + 1}..{w.prev_seq} were inserted"
            )
            + ", or entries were reordered"
        )
        return AuditProblem(e.seq, "reordered", msg)
    if recomputed == e.entry_sha256 and e.seq == w.prev_seq + 1:
        msg = (
            f"prev_sha256 does not match seq {w.prev_seq}: an entry was inserted "
            "or the previous one was replaced"
        )
        return AuditProblem(e.seq, "link", msg)
    return AuditProblem(e.seq, "link", f"prev_sha256 does not match seq {w.prev_seq}'s entry hash")


def _walk(session: Session) -> _Walk:
    """Every entry's own hash, its ``seq`` step and its link to the previous entry."""
    w = _Walk()
    for e in _entries(session):
        w.entries += 1
        recomputed = _hash_of(e)
        if recomputed != e.entry_sha256:
            w.problems.append(
                AuditProblem(e.seq, "edited", "entry hash mismatch: this entry was edited")
            )
        if e.seq != w.prev_seq + 1:
            if e.seq > w.prev_seq + 1:
                w.problems.append(
                    AuditProblem(
                        e.seq,
                        "gap",
                        f"entries {w.prev_seq + 1}..{e.seq - 1} are missing (deleted)",
                    )
                )
            else:  # pragma: no cover - seq is the primary key and sorted
                w.problems.append(AuditProblem(e.seq, "reordered", "sequence goes backwards"))
        if e.prev_sha256 != w.prev_hash:
            w.problems.append(_link_problem(w, e, recomputed))
        w.seen_hash_at[e.entry_sha256] = e.seq
        key = (e.object_type, e.object_id)
        w.latest[key] = (e.seq, e.state_sha256)
        if e.action != "keys.rotate":  # re-encryption changes ciphertext, not content
            w.counts[key] = w.counts.get(key, 0) + 1
        w.prev_seq, w.prev_hash = e.seq, e.entry_sha256
    return w


def _ends(session: Session, w: _Walk, anchor: tuple[int, str] | None) -> list[AuditProblem]:
    """The head row against the log's last entry, and the anchor (if any) against its entry."""
    out: list[AuditProblem] = []
    prev_seq, prev_hash = w.prev_seq, w.prev_hash
    head = session.execute(sa.select(AuditHead).where(AuditHead.id == 1)).scalar_one_or_none()
    if head is None:
        out.append(AuditProblem(None, "head", "the audit head row is missing"))
    elif head.seq != prev_seq or head.entry_sha256 != prev_hash:
        out.append(
            AuditProblem(
                prev_seq + 1 if head.seq > prev_seq else None,
                "head",
                f"the head records seq {head.seq} but the log ends at seq {prev_seq}"
                + (" (entries at the end were deleted)" if head.seq > prev_seq else "")
                if head.seq != prev_seq
                else f"the head hash does not match seq {prev_seq}'s entry hash",
            )
        )
    if anchor is not None:
        a_seq, a_hash = anchor
        if a_seq > prev_seq:
            out.append(AuditProblem(a_seq, "anchor", f"anchored seq {a_seq} is missing"))
        else:
            anchored = session.get(AuditEntry, a_seq)
            if anchored is None or anchored.entry_sha256 != a_hash:
                out.append(AuditProblem(a_seq, "anchor", "entry differs from the anchored hash"))
    return out


def _row_problems(
    w: _Walk, otype: str, oid: str, row: Any, model: Any, *, immutable: bool
) -> list[AuditProblem]:
    """One stored object against the state its latest entry records."""
    key = (otype, oid)
    if key not in w.latest:
        return [
            AuditProblem(None, "unaudited", f"{otype} {oid} has no audit entry (written outside)")
        ]
    out: list[AuditProblem] = []
    seq, st = w.latest[key]
    if st != sha256_hex(canonical_json(audit_state_of(row, model.AUDIT_FIELDS))):
        out.append(
            AuditProblem(
                seq,
                "state",
                f"{otype} {oid} differs from the state its latest entry records "
                "(edited outside the registry)",
            )
        )
    if immutable and w.counts.get(key, 0) != 1:
        out.append(
            AuditProblem(
                seq,
                "immutable",
                f"{otype} {oid} is immutable but has {w.counts.get(key, 0)} content entries",
            )
        )
    return out


def _bindings(session: Session, w: _Walk) -> tuple[list[AuditProblem], int]:
    """Every audited object's row against its latest entry; rows deleted or never audited."""
    binding: list[AuditProblem] = []
    checked = 0
    by_type: dict[str, dict[str, int]] = {}
    for (t, obj_id), (seq, _) in w.latest.items():
        by_type.setdefault(t, {})[obj_id] = seq
    for otype, (model, immutable) in OBJECT_TYPES.items():
        present: set[str] = set()
        cols = [model.__table__.c[f] for f in model.AUDIT_FIELDS]
        stmt = sa.select(*cols).execution_options(yield_per=5000)
        for row in session.execute(stmt).mappings():
            checked += 1
            oid = str(row["id"])
            present.add(oid)
            binding.extend(_row_problems(w, otype, oid, row, model, immutable=immutable))
        for oid, seq in by_type.get(otype, {}).items():
            if oid not in present:
                binding.append(AuditProblem(seq, "missing_row", f"{otype} {oid} was deleted"))
    return binding, checked


def verify_chain(session: Session, *, anchor: tuple[int, str] | None = None) -> AuditReport:
    """Check every link and every object's binding; report all problems, first first."""
    w = _walk(session)
    chain = w.problems + _ends(session, w, anchor)
    binding, checked = _bindings(session, w)
    problems = sorted(chain + binding, key=lambda p: (p.seq is None, p.seq or 0))
    return AuditReport(
        entries=w.entries,
        head_seq=w.prev_seq,
        head_sha256=w.prev_hash,
        objects_checked=checked,
        problems=tuple(problems),
    )
