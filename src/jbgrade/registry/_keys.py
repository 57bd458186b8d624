"""Audit and keys aggregate."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import sqlalchemy as sa

from jbgrade.registry import _audit
from jbgrade.registry._context import (
    _SYSTEM_ROTATE,
    RegistryContext,
)
from jbgrade.registry._crypto import Keyring
from jbgrade.registry._models import (
    AuditEntry,
    Case,
    Evidence,
)
from jbgrade.registry._views import (
    Actor,
    AuditEntryView,
)

__all__ = ["AuditKeyStore"]


class AuditKeyStore(RegistryContext):
    # -- audit -------------------------------------------------------------------------
    def audit_trail(self, actor: Actor, case_id: str) -> list[AuditEntryView]:
        """The audit entries of one case, in chain order."""
        with self._read() as s:
            self._case(s, actor, case_id, "case.read")
            rows = s.execute(
                sa.select(AuditEntry).where(AuditEntry.case_id == case_id).order_by(AuditEntry.seq)
            ).scalars()
            return [AuditEntryView.model_validate(e, from_attributes=True) for e in rows]

    def verify_audit(
        self, actor: Actor | None = None, *, anchor: tuple[int, str] | None = None
    ) -> _audit.AuditReport:
        """Verify the whole chain and its binding to the data. ``actor=None`` is the
        operator (CLI); otherwise the actor needs ``audit.verify``."""
        with self._read() as s:
            if actor is not None:
                self._check_actor(s, actor)
                self._require(actor, "audit.verify")
            return _audit.verify_chain(s, anchor=anchor)

    # -- keys --------------------------------------------------------------------------
    def key_usage(self) -> dict[str, int]:
        """Key id -> number of ciphertexts sealed under it."""
        out: dict[str, int] = {}
        with self._read() as s:
            for col in (Case.payload_ct, Case.transcripts_ct, Evidence.transcripts_ct):
                for (ct,) in s.execute(sa.select(col).where(col.is_not(None))):
                    kid = Keyring.key_id_of(ct or "")
                    out[kid] = out.get(kid, 0) + 1
        return out

    def rotate_keys(self, new_keyring: Keyring, *, batch: int = 200) -> int:
        """Re-encrypt every ciphertext not under ``new_keyring.active``; return how many.

        ``new_keyring`` must hold every key in use (old ones decrypt). Each changed
        row is audited (``keys.rotate``) in batches, so an interrupted rotation can
        simply be run again. Afterwards the registry uses ``new_keyring``.
        """
        active = new_keyring.active
        done = 0
        specs: tuple[tuple[type[Case] | type[Evidence], tuple[str, ...]], ...] = (
            (Case, ("payload", "transcripts")),
            (Evidence, ("transcripts",)),
        )
        for model, fields in specs:
            while True:
                with self._write() as s:
                    conds = []
                    for f in fields:
                        col = getattr(model, f + "_ct")
                        conds.append(sa.and_(col.is_not(None), ~col.startswith(f"jbg1.{active}.")))
                    stmt = sa.select(model).where(sa.or_(*conds)).limit(batch).with_for_update()
                    rows = cast("Sequence[Case | Evidence]", s.execute(stmt).scalars().all())
                    if not rows:
                        break
                    for row in rows:
                        cid = row.case_id if isinstance(row, Evidence) else row.id
                        for f in fields:
                            ct = getattr(row, f + "_ct")
                            if ct is None or Keyring.key_id_of(ct) == active:
                                continue
                            where = f if isinstance(row, Case) else f"evidence:{row.id}:{f}"
                            pt = new_keyring.open(ct, case_id=cid, field=where)
                            setattr(row, f + "_ct", new_keyring.seal(pt, case_id=cid, field=where))
                            done += 1
                        self._log(s, _SYSTEM_ROTATE, "keys.rotate", row, cid)
        self._keyring = new_keyring
        return done
