"""Assessments and evidence aggregate."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from pydantic import SecretStr, ValidationError
from sqlalchemy.orm import Session

from jbgrade._base import validation_error
from jbgrade._errors import (
    InputError,
    InvalidTransitionError,
)
from jbgrade.evidence import Evidence as EvidenceRecord
from jbgrade.registry._context import (
    _MAX_SECRET,
    RegistryContext,
    _text,
)
from jbgrade.registry._models import (
    Assessment,
    Case,
    Evidence,
    Organization,
    User,
)
from jbgrade.registry._util import canonical_json, case_rows, new_id, row_view, sha256_hex
from jbgrade.registry._views import (
    Actor,
    AssessmentView,
    EvidenceView,
)
from jbgrade.rubric import grade

__all__ = ["AssessmentStore"]


class AssessmentStore(RegistryContext):
    # -- assessments -------------------------------------------------------------------
    def _refresh_case_grade(self, s: Session, case: Case) -> None:
        """Recompute the case's listing columns from the current assessments: the
        highest score wins (precaution when parties disagree)."""
        latest = (
            sa.select(Assessment.org_id, sa.func.max(Assessment.version).label("v"))
            .where(Assessment.case_id == case.id)
            .group_by(Assessment.org_id)
            .subquery()
        )
        best = s.execute(
            sa.select(Assessment.score, Assessment.severity, Assessment.domain)
            .join(
                latest,
                sa.and_(latest.c.org_id == Assessment.org_id, latest.c.v == Assessment.version),
            )
            .where(Assessment.case_id == case.id)
            .order_by(Assessment.score.desc(), Assessment.created_at.desc())
            .limit(1)
        ).first()
        if best is None:
            case.score, case.severity, case.domain, case.rank_score = None, None, None, -1.0
        else:
            case.score, case.severity, case.domain = best[0], best[1], best[2]
            case.rank_score = best[0]

    def add_assessment(
        self,
        actor: Actor,
        case_id: str,
        vector: str,
        *,
        rationales: Mapping[str, str] | None = None,
        evidence_refs: Sequence[str] = (),
        note: str = "",
    ) -> AssessmentView:
        """Grade a case for the actor's organisation. Assessments are immutable: a
        second call by the same organisation adds version n+1 that supersedes n."""
        with self._write() as s:
            case, _ = self._case(s, actor, case_id, "assessment.add", lock=True)
            if case.state == "closed":
                raise InvalidTransitionError(f"case {case_id} is closed: reopen it to assess")
            g = grade(vector)
            rat: dict[str, str] = {}
            for k, v in dict(rationales or {}).items():
                if k not in self._metrics:
                    raise InputError(
                        f"unknown metric (known: {', '.join(self._metrics)})",
                        field=f"rationales.{k}",
                    )
                rat[k] = _text(v, f"rationales.{k}", max_len=20_000)
            refs = list(evidence_refs)
            for ref in refs:
                _text(ref, "evidence_refs", max_len=500, required=True)
                if (
                    ref.startswith("evd_")
                    and s.execute(
                        sa.select(Evidence.id).where(
                            Evidence.id == ref, Evidence.case_id == case.id
                        )
                    ).first()
                    is None
                ):
                    raise InputError(f"no evidence {ref} on this case", field="evidence_refs")
            prev = s.execute(
                sa.select(Assessment)
                .where(Assessment.case_id == case.id, Assessment.org_id == actor.org_id)
                .order_by(Assessment.version.desc())
                .limit(1)
            ).scalar_one_or_none()
            now = self._now()
            a = Assessment(
                id=new_id("asm"),
                case_id=case.id,
                org_id=actor.org_id,
                assessor_id=actor.user_id,
                version=(prev.version + 1) if prev else 1,
                supersedes_id=prev.id if prev else None,
                vector=g.vector,
                score=g.score,
                severity=g.severity,
                provisional=g.provisional,
                systemic=g.systemic,
                domain=g.letters["HD"],
                rationales=canonical_json(rat),
                evidence_refs=canonical_json(refs),
                note=_text(note, "note", max_len=20_000),
                created_at=now,
            )
            s.add(a)
            s.flush()
            self._refresh_case_grade(s, case)
            case.updated_at = now
            self._log(s, actor, "assessment.add", a, case.id)
            return self._assessment_views(s, case.id, history=True, only=a.id)[0]

    def _assessment_views(
        self, s: Session, case_id: str, *, history: bool, only: str | None = None
    ) -> list[AssessmentView]:
        latest = dict(
            s.execute(
                sa.select(Assessment.org_id, sa.func.max(Assessment.version))
                .where(Assessment.case_id == case_id)
                .group_by(Assessment.org_id)
            ).all()
        )
        stmt = (
            case_rows(Assessment, case_id, only, Organization.name, User.display_name)
            .join(Organization, Organization.id == Assessment.org_id)
            .join(User, User.id == Assessment.assessor_id)
        )
        out = []
        for a, org_name, user_name in s.execute(stmt):
            current = latest.get(a.org_id) == a.version
            if not history and not current:
                continue
            out.append(
                row_view(
                    AssessmentView,
                    a,
                    org_name=org_name,
                    assessor_name=user_name,
                    current=current,
                    rationales=json.loads(a.rationales),
                    evidence_refs=json.loads(a.evidence_refs),
                )
            )
        return out

    def list_assessments(
        self, actor: Actor, case_id: str, *, history: bool = False
    ) -> list[AssessmentView]:
        """Each party's current assessment (``history=True``: every version), oldest first."""
        with self._read() as s:
            self._case(s, actor, case_id, "case.read")
            return self._assessment_views(s, case_id, history=history)

    # -- evidence ----------------------------------------------------------------------
    @staticmethod
    def _validate_evidence(evidence: Mapping[str, Any] | EvidenceRecord) -> tuple[str, str]:
        """Validate against ``jbgrade.evidence.Evidence``; return canonical JSON and version."""
        if isinstance(evidence, EvidenceRecord):
            rec = evidence
        else:
            if not isinstance(evidence, Mapping):
                raise InputError("evidence must be a JSON object", field="evidence")
            fv = evidence.get("format_version")
            if fv != 1:
                raise InputError(
                    f"unsupported evidence format_version {fv!r} (supported: 1)",
                    field="evidence.format_version",
                )
            try:
                rec = EvidenceRecord.model_validate(dict(evidence))
            except ValidationError as exc:
                raise validation_error(exc, prefix="evidence") from None
        body = canonical_json(rec.model_dump(mode="json"))
        if len(body) > _MAX_SECRET:
            raise InputError(f"evidence larger than {_MAX_SECRET} bytes", field="evidence")
        return body, str(rec.format_version)

    def attach_evidence(
        self,
        actor: Actor,
        case_id: str,
        evidence: Mapping[str, Any] | EvidenceRecord,
        *,
        label: str = "",
        transcripts: str | None = None,
    ) -> EvidenceView:
        """Attach campaign evidence (a ``jbgrade.evidence.Evidence`` or its JSON,
        validated) and, optionally, transcripts (encrypted)."""
        with self._write() as s:
            case, _ = self._case(s, actor, case_id, "evidence.attach", lock=True)
            body, fv = self._validate_evidence(evidence)
            eid = new_id("evd")
            ev = Evidence(
                id=eid,
                case_id=case.id,
                org_id=actor.org_id,
                attached_by=actor.user_id,
                label=_text(label, "label", max_len=200),
                format_version=fv,
                body=body,
                body_sha256=sha256_hex(body),
                transcripts_ct=self._seal(transcripts, case.id, f"evidence:{eid}:transcripts"),
                created_at=self._now(),
            )
            s.add(ev)
            case.updated_at = ev.created_at
            self._log(s, actor, "evidence.attach", ev, case.id)
            return self._evidence_view(ev, None)

    @staticmethod
    def _evidence_view(ev: Evidence, transcripts: SecretStr | None) -> EvidenceView:
        return row_view(
            EvidenceView,
            ev,
            evidence_format_version=ev.format_version,
            body=json.loads(ev.body),
            has_transcripts=ev.transcripts_ct is not None,
            transcripts=transcripts,
        )

    def list_evidence(
        self, actor: Actor, case_id: str, *, include_transcripts: bool = False
    ) -> list[EvidenceView]:
        """Evidence on a case; transcripts only on request for entitled callers (audited)."""
        action = "case.read_payload" if include_transcripts else "case.read"
        with self._write() if include_transcripts else self._read() as s:
            case, _ = self._case(s, actor, case_id, action)
            rows = (
                s.execute(
                    sa.select(Evidence)
                    .where(Evidence.case_id == case_id)
                    .order_by(Evidence.created_at, Evidence.id)
                )
                .scalars()
                .all()
            )
            out = []
            for ev in rows:
                tr = None
                if include_transcripts:
                    tr = self._open(ev.transcripts_ct, case.id, f"evidence:{ev.id}:transcripts")
                out.append(self._evidence_view(ev, tr))
            if include_transcripts and any(ev.transcripts_ct for ev in rows):
                self._log(s, actor, "evidence.read_transcripts", case, case.id)
            return out
