"""Cases aggregate: reporting, reading, visibility, lifecycle and grants."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from jbgrade._errors import (
    InputError,
    InvalidTransitionError,
    NotFoundError,
)
from jbgrade.registry._context import (
    RegistryContext,
    _aware,
    _str_list,
    _text,
)
from jbgrade.registry._models import (
    Assessment,
    Case,
    CaseGrant,
    CaseTransition,
    Decision,
    Organization,
)
from jbgrade.registry._tables import STATES, lifecycle
from jbgrade.registry._util import canonical_json, new_id, row_view
from jbgrade.registry._views import (
    Actor,
    CaseView,
    GrantView,
    TransitionView,
)

__all__ = ["CaseStore"]


_ATLAS_ID = re.compile(r"AML\.T\d{4}(\.\d{3})?")
_KIND = re.compile(r"[a-z0-9][a-z0-9_-]{0,59}")


def _attack_kind(kind: str | None) -> str | None:
    if kind is None or not kind.strip():
        return None
    k = kind.strip().lower()
    if not _KIND.fullmatch(k):
        raise InputError(
            f"must be a short lower-case id (letters, digits, '-', '_'), got {kind!r}",
            field="attack_kind",
        )
    return k


def _atlas_ids(ids: Sequence[str]) -> str:
    """Canonical JSON list of ATLAS technique ids, in order, without repeats."""
    if isinstance(ids, str):
        raise InputError("must be a list of ATLAS ids, not one text", field="atlas_techniques")
    out: list[str] = []
    for t in ids:
        if not isinstance(t, str) or not _ATLAS_ID.fullmatch(t.strip()):
            raise InputError(
                f"{t!r} is not a MITRE ATLAS technique id (AML.T0054, AML.T0051.000)",
                field="atlas_techniques",
            )
        if t.strip() not in out:
            out.append(t.strip())
    if len(out) > 50:
        raise InputError("more than 50 entries", field="atlas_techniques")
    return canonical_json(out)


class CaseStore(RegistryContext):
    # -- cases ---------------------------------------------------------------------
    def report_case(
        self,
        actor: Actor,
        *,
        title: str,
        summary: str = "",
        owning_org_id: str | None = None,
        affected_models: Sequence[str] = (),
        affected_vendors: Sequence[str] = (),
        affected_deployments: Sequence[str] = (),
        attack_description: str = "",
        attack_kind: str | None = None,
        atlas_techniques: Sequence[str] = (),
        payload: str | None = None,
        transcripts: str | None = None,
        embargo_until: datetime | None = None,
    ) -> CaseView:
        """Report a case; the actor's organisation is the reporting one. ``payload`` and
        ``transcripts`` are encrypted before they reach the database. ``attack_kind``
        and ``atlas_techniques`` (MITRE ATLAS ids, ``AML.T0054`` or ``AML.T0051.000``
        form) describe the attack for exports (STIX, ATLAS case study)."""
        with self._write() as s:
            self._check_actor(s, actor)
            self._require(actor, "case.report")
            owner = owning_org_id or actor.org_id
            if s.get(Organization, owner) is None:
                raise NotFoundError(f"organisation {owner} not found")
            now = self._now()
            cid = new_id("case")
            case = Case(
                id=cid,
                title=_text(title, "title", max_len=300, required=True).strip(),
                summary=_text(summary, "summary"),
                affected_models=_str_list(affected_models, "affected_models"),
                affected_vendors=_str_list(affected_vendors, "affected_vendors"),
                affected_deployments=_str_list(affected_deployments, "affected_deployments"),
                attack_description=_text(attack_description, "attack_description"),
                attack_kind=_attack_kind(attack_kind),
                atlas_techniques=_atlas_ids(atlas_techniques),
                payload_ct=self._seal(payload, cid, "payload"),
                transcripts_ct=self._seal(transcripts, cid, "transcripts"),
                embargo_until=_aware(embargo_until, "embargo_until"),
                reporting_org_id=actor.org_id,
                owning_org_id=owner,
                reported_by=actor.user_id,
                state=lifecycle().initial,
                created_at=now,
                updated_at=now,
                score=None,
                rank_score=-1.0,
                severity=None,
                domain=None,
            )
            s.add(case)
            self._log(s, actor, "case.report", case, cid)
            return self._case_view(
                s,
                actor,
                case,
                {"reporting"} | ({"owning"} if owner == actor.org_id else set()),
                False,
            )

    def _case_view(
        self, s: Session, actor: Actor, case: Case, rels: set[str], include_payload: bool
    ) -> CaseView:
        embargoed = self._embargoed(case)
        access = self._perms.allowed("case.read_payload", actor.role, rels, embargoed=embargoed)
        orgs = {
            o.id: o.name
            for o in s.execute(
                sa.select(Organization).where(
                    Organization.id.in_({case.reporting_org_id, case.owning_org_id})
                )
            ).scalars()
        }
        grants = [
            self._grant_view(g, name)
            for g, name in s.execute(
                sa.select(CaseGrant, Organization.name)
                .join(Organization, Organization.id == CaseGrant.org_id)
                .where(CaseGrant.case_id == case.id)
                .order_by(CaseGrant.created_at)
            )
        ]
        history = [
            row_view(TransitionView, t)
            for t in s.execute(
                sa.select(CaseTransition)
                .where(CaseTransition.case_id == case.id)
                .order_by(CaseTransition.created_at, CaseTransition.id)
            ).scalars()
        ]
        allowed: list[str] = []
        if self._perms.allowed("case.transition", actor.role, rels, embargoed=embargoed):
            allowed = [
                t for t in lifecycle().targets(case.state) if self._requirements_met(s, case, t)
            ]
        return CaseView(
            id=case.id,
            title=case.title,
            state=case.state,
            score=case.score,
            severity=case.severity,
            domain=case.domain,
            reporting_org_id=case.reporting_org_id,
            reporting_org_name=orgs.get(case.reporting_org_id, ""),
            owning_org_id=case.owning_org_id,
            owning_org_name=orgs.get(case.owning_org_id, ""),
            embargo_until=case.embargo_until,
            created_at=case.created_at,
            updated_at=case.updated_at,
            summary=case.summary,
            affected_models=json.loads(case.affected_models),
            affected_vendors=json.loads(case.affected_vendors),
            affected_deployments=json.loads(case.affected_deployments),
            attack_description=case.attack_description,
            attack_kind=case.attack_kind,
            atlas_techniques=json.loads(case.atlas_techniques or "[]"),
            reported_by=case.reported_by,
            embargoed=embargoed,
            has_payload=case.payload_ct is not None,
            has_transcripts=case.transcripts_ct is not None,
            payload_access=access,
            payload=self._open(case.payload_ct, case.id, "payload") if include_payload else None,
            transcripts=self._open(case.transcripts_ct, case.id, "transcripts")
            if include_payload
            else None,
            relations=sorted(rels),
            allowed_transitions=allowed,
            grants=grants,
            history=history,
        )

    def get_case(self, actor: Actor, case_id: str, *, include_payload: bool = False) -> CaseView:
        """A case the actor may see. ``include_payload=True`` decrypts payload and
        transcripts for an entitled actor (PermissionDeniedError otherwise) and
        records the disclosure in the audit log."""
        if not include_payload:
            with self._read() as s:
                case, rels = self._case(s, actor, case_id, "case.read")
                return self._case_view(s, actor, case, rels, False)
        with self._write() as s:
            case, rels = self._case(s, actor, case_id, "case.read_payload")
            view = self._case_view(s, actor, case, rels, True)
            if case.payload_ct is not None or case.transcripts_ct is not None:
                self._log(s, actor, "case.read_payload", case, case.id)
            return view

    def _requirements_met(self, s: Session, case: Case, target: str) -> bool:
        t = lifecycle().find(case.state, target)
        if t is None:
            return False
        return not self._unmet(s, case, t.requires)

    def _unmet(self, s: Session, case: Case, requires: Iterable[str]) -> list[str]:
        out = []
        for req in requires:
            if req == "assessment":
                q = sa.select(Assessment.id).where(Assessment.case_id == case.id)
            elif req == "decision":
                q = sa.select(Decision.id).where(Decision.case_id == case.id)
            else:  # a table entry the code does not know: refuse rather than ignore
                out.append(req)
                continue
            if s.execute(q.limit(1)).first() is None:
                out.append(req)
        return out

    def transition(self, actor: Actor, case_id: str, to_state: str, *, note: str = "") -> CaseView:
        """Move a case along the lifecycle table (``data/lifecycle.json``)."""
        with self._write() as s:
            case, rels = self._case(s, actor, case_id, "case.transition", lock=True)
            if to_state not in STATES:
                raise InputError(
                    f"unknown state {to_state!r} (known: {', '.join(STATES)})", field="to_state"
                )
            t = lifecycle().find(case.state, to_state)
            if t is None:
                allowed = ", ".join(lifecycle().targets(case.state)) or "none"
                raise InvalidTransitionError(
                    f"case {case_id} cannot go from {case.state} to {to_state} "
                    f"(allowed from {case.state}: {allowed})"
                )
            unmet = self._unmet(s, case, t.requires)
            if unmet:
                raise InvalidTransitionError(
                    f"case {case_id} cannot go from {case.state} to {to_state}: "
                    f"needs {' and '.join('a ' + u for u in unmet)} first"
                )
            now = self._now()
            move = CaseTransition(
                id=new_id("trn"),
                case_id=case.id,
                from_state=case.state,
                to_state=to_state,
                actor_id=actor.user_id,
                note=_text(note, "note", max_len=10_000),
                created_at=now,
            )
            case.state = to_state
            case.updated_at = now
            s.add(move)
            self._log(s, actor, "case.transition", move, case.id)
            self._log(s, actor, "case.transition", case, case.id)
            return self._case_view(s, actor, case, rels, False)

    def grant_access(
        self, actor: Actor, case_id: str, org_id: str, *, payload: bool = False
    ) -> GrantView:
        """Give another organisation (e.g. a regulator) access to a case."""
        with self._write() as s:
            case, _ = self._case(s, actor, case_id, "case.grant", lock=True)
            org = s.get(Organization, org_id)
            if org is None:
                raise NotFoundError(f"organisation {org_id} not found")
            if org_id in (case.reporting_org_id, case.owning_org_id):
                raise InputError(
                    "the reporting and owning organisations have access already", field="org_id"
                )
            g = s.execute(
                sa.select(CaseGrant).where(CaseGrant.case_id == case.id, CaseGrant.org_id == org_id)
            ).scalar_one_or_none()
            now = self._now()
            if g is None:
                g = CaseGrant(
                    id=new_id("grt"),
                    case_id=case.id,
                    org_id=org_id,
                    payload=bool(payload),
                    granted_by=actor.user_id,
                    created_at=now,
                    revoked_at=None,
                )
                s.add(g)
            else:
                g.payload = bool(payload)
                g.granted_by = actor.user_id
                g.revoked_at = None
            case.updated_at = now
            self._log(s, actor, "case.grant", g, case.id)
            return self._grant_view(g, org.name)

    @staticmethod
    def _grant_view(g: CaseGrant, org_name: str) -> GrantView:
        return row_view(GrantView, g, org_name=org_name)

    def revoke_access(self, actor: Actor, case_id: str, org_id: str) -> None:
        with self._write() as s:
            case, _ = self._case(s, actor, case_id, "case.grant", lock=True)
            g = s.execute(
                sa.select(CaseGrant).where(
                    CaseGrant.case_id == case.id,
                    CaseGrant.org_id == org_id,
                    CaseGrant.revoked_at.is_(None),
                )
            ).scalar_one_or_none()
            if g is None:
                raise NotFoundError(f"no active grant of case {case_id} to {org_id}")
            g.revoked_at = self._now()
            case.updated_at = g.revoked_at
            self._log(s, actor, "case.revoke_grant", g, case.id)
