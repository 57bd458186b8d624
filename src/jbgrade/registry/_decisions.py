"""Decisions and reconciliations aggregate."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from jbgrade._errors import (
    InputError,
    InvalidTransitionError,
    NotFoundError,
)
from jbgrade.policy import ACTIONS, DECISION_KEYS, Profile
from jbgrade.policy import decide as policy_decide
from jbgrade.policy import replay as policy_replay
from jbgrade.registry._context import (
    RegistryContext,
)
from jbgrade.registry._models import (
    Assessment,
    Decision,
    Organization,
    Reconciliation,
    User,
)
from jbgrade.registry._util import canonical_json, case_rows, new_id, row_view
from jbgrade.registry._views import (
    Actor,
    DecisionView,
    ReconciliationView,
)

__all__ = ["DecisionStore"]


class DecisionStore(RegistryContext):
    # -- decisions ---------------------------------------------------------------------
    @staticmethod
    def _validate_decision(d: Mapping[str, Any]) -> tuple[dict[str, Any], date | None]:
        if not isinstance(d, Mapping):
            raise InputError("a decision must be a JSON object", field="decision")
        missing = [k for k in DECISION_KEYS if k not in d]
        if missing:
            raise InputError(f"missing key(s) {', '.join(missing)}", field="decision")
        if d["action"] not in ACTIONS:
            raise InputError(
                f"unknown action {d['action']!r} (known: {', '.join(ACTIONS)})",
                field="decision.action",
            )
        for k in ("profile", "profile_version"):
            if not isinstance(d[k], str) or not d[k] or len(d[k]) > 100:
                raise InputError("must be non-empty text", field=f"decision.{k}")
        if not isinstance(d["bundle_sha256"], str) or not re.fullmatch(
            r"[0-9a-f]{64}", d["bundle_sha256"]
        ):
            raise InputError("must be 64 lowercase hex digits", field="decision.bundle_sha256")
        if not isinstance(d["provisional"], bool):
            raise InputError("must be true or false", field="decision.provisional")
        if not isinstance(d["obligations"], list):
            raise InputError("must be a list", field="decision.obligations")
        dues: list[date] = []
        for i, ob in enumerate(d["obligations"]):
            if not isinstance(ob, Mapping) or not {"party", "what", "due"} <= set(ob):
                raise InputError("needs party, what and due", field=f"decision.obligations[{i}]")
            if ob["due"] is not None:
                try:
                    dues.append(date.fromisoformat(ob["due"]))
                except (TypeError, ValueError):
                    raise InputError(
                        "due must be an ISO date", field=f"decision.obligations[{i}].due"
                    ) from None
        try:
            body = json.loads(canonical_json(dict(d)))
        except (TypeError, ValueError):
            raise InputError("the decision is not plain JSON", field="decision") from None
        return body, min(dues) if dues else None

    def record_decision(
        self,
        actor: Actor,
        case_id: str,
        decision: Mapping[str, Any],
        *,
        assessment_id: str | None = None,
    ) -> DecisionView:
        """Record a policy decision (the ``jbgrade decide --json`` object: action,
        obligations, fired_rules, near_misses, provisional, profile, profile_version,
        bundle_sha256) for a case, optionally naming the assessment it rests on."""
        body, next_due = self._validate_decision(decision)
        with self._write() as s:
            case, _ = self._case(s, actor, case_id, "decision.record", lock=True)
            if case.state == "closed":
                raise InvalidTransitionError(f"case {case_id} is closed: reopen it to decide")
            if (
                assessment_id is not None
                and s.execute(
                    sa.select(Assessment.id).where(
                        Assessment.id == assessment_id, Assessment.case_id == case.id
                    )
                ).first()
                is None
            ):
                raise InputError(
                    f"no assessment {assessment_id} on this case", field="assessment_id"
                )
            d = Decision(
                id=new_id("dec"),
                case_id=case.id,
                assessment_id=assessment_id,
                org_id=actor.org_id,
                decided_by=actor.user_id,
                profile_id=body["profile"],
                profile_version=body["profile_version"],
                bundle_sha256=body["bundle_sha256"],
                action=body["action"],
                provisional=body["provisional"],
                result=canonical_json(body),
                next_due=next_due,
                created_at=self._now(),
            )
            s.add(d)
            case.updated_at = d.created_at
            self._log(s, actor, "decision.record", d, case.id)
            return self._decision_views(s, case.id, only=d.id)[0]

    def decide(
        self,
        actor: Actor,
        case_id: str,
        profile: str | Profile,
        *,
        assessment_id: str | None = None,
        vector: str | None = None,
        context: Mapping[str, Any] | None = None,
        aware_on: date | str | None = None,
    ) -> DecisionView:
        """Run the policy engine (:func:`jbgrade.decide`) on a grade of the case and
        record the decision. The API and the web UI record decisions through here.

        The grade: ``assessment_id`` (any version), else ``vector`` (a grade not
        recorded as an assessment), else the highest-scoring current assessment
        (precaution when the parties disagree). Default awareness date: the day the
        case was reported (UTC), the earliest day anyone with access to the registry
        knew of it, so deadlines never run late for want of a date. The stored result
        holds the vector, context and dates, so :meth:`replay_decision` can recompute it.
        """
        with self._read() as s:
            case, _ = self._case(s, actor, case_id, "decision.record")
            chosen: str | None = None
            if assessment_id is not None:
                row = s.execute(
                    sa.select(Assessment.id, Assessment.vector).where(
                        Assessment.case_id == case.id, Assessment.id == assessment_id
                    )
                ).first()
                if row is None:
                    raise InputError(
                        f"no assessment {assessment_id} on this case", field="assessment_id"
                    )
                chosen, vec = row
            elif vector is not None:
                vec = vector
            else:
                # Current: each organisation's latest version (as _assessment_views marks it).
                latest = (
                    sa.select(Assessment.org_id, sa.func.max(Assessment.version).label("v"))
                    .where(Assessment.case_id == case.id)
                    .group_by(Assessment.org_id)
                    .subquery()
                )
                row = s.execute(
                    sa.select(Assessment.id, Assessment.vector)
                    .join(
                        latest,
                        (latest.c.org_id == Assessment.org_id) & (latest.c.v == Assessment.version),
                    )
                    .where(Assessment.case_id == case.id)
                    .order_by(Assessment.score.desc(), Assessment.created_at.desc())
                    .limit(1)
                ).first()
                if row is None:
                    raise InputError(
                        f"case {case_id} has no assessment to decide on: add one, or give a vector",
                        field="vector",
                    )
                chosen, vec = row
            aware = aware_on if aware_on is not None else case.created_at.date()
        d = policy_decide(vec, context, profile, aware_on=aware)
        full = d.model_dump(mode="json")
        # The published keys exactly as the engine renders them, plus what replay needs.
        rec = {
            **d.to_dict(),
            **{k: full[k] for k in ("vector", "aware_on", "context")},
            # Replay needs what was given: the effective context includes assumptions.
            "context_given": dict(context) if context is not None else None,
        }
        return self.record_decision(actor, case_id, rec, assessment_id=chosen)

    def replay_decision(
        self, actor: Actor, decision_id: str, *, case_id: str | None = None
    ) -> DecisionView:
        """Recompute a recorded decision with the policy engine and check it is the
        same (:func:`jbgrade.policy.replay`); PolicyError when it is not. With
        ``case_id``, a decision of another case is not found."""
        with self._read() as s:
            row = s.get(Decision, decision_id) if isinstance(decision_id, str) else None
            if row is None or (case_id is not None and row.case_id != case_id):
                raise NotFoundError(f"decision {decision_id} not found")
            self._case(s, actor, row.case_id, "case.read")
            view = self._decision_views(s, row.case_id, only=row.id)[0]
        rec = view.result
        vector, context, aware_on = rec.get("vector"), rec.get("context_given"), rec.get("aware_on")
        if not isinstance(vector, str):
            raise InputError(
                "this decision was recorded from outside without its vector: cannot replay",
                field="decision_id",
            )
        policy_replay(
            {k: rec[k] for k in DECISION_KEYS},
            vector,
            context if isinstance(context, dict) else None,
            str(rec["profile"]),
            aware_on=aware_on if isinstance(aware_on, str) else None,
        )
        return view

    def _decision_views(
        self, s: Session, case_id: str, only: str | None = None
    ) -> list[DecisionView]:
        rows = (
            s.execute(
                sa.select(Decision)
                .where(Decision.case_id == case_id)
                .order_by(Decision.created_at, Decision.id)
            )
            .scalars()
            .all()
        )
        latest: dict[str, str] = {}
        for d in rows:
            latest[d.profile_id] = d.id
        return [
            row_view(
                DecisionView,
                d,
                result=json.loads(d.result),
                current=latest[d.profile_id] == d.id,
            )
            for d in rows
            if only is None or d.id == only
        ]

    def list_decisions(self, actor: Actor, case_id: str) -> list[DecisionView]:
        """Every decision recorded on the case, oldest first (``current`` marks the
        latest per profile)."""
        with self._read() as s:
            self._case(s, actor, case_id, "case.read")
            return self._decision_views(s, case_id)

    # -- reconciliations -------------------------------------------------------------
    @staticmethod
    def _validate_reconciliation(rec: Mapping[str, Any], case_id: str) -> dict[str, Any]:
        # The full model lives in jbgrade.assess (a layer above): callers with it
        # validate there first (jbgrade.assess.store_reconciliation); here we check
        # what the registry relies on, so a stored record is always readable.
        if not isinstance(rec, Mapping):
            raise InputError("a reconciliation must be a JSON object", field="reconciliation")
        if rec.get("kind") != "jbgrade-reconciliation" or rec.get("format_version") != 1:
            raise InputError(
                "not a jbgrade reconciliation record (kind jbgrade-reconciliation, format 1)",
                field="reconciliation.kind",
            )
        if rec.get("case_id") != case_id:
            raise InputError(
                f"the record is about case {rec.get('case_id')!r}, not {case_id}",
                field="reconciliation.case_id",
            )
        if rec.get("status") not in ("open", "settled"):
            raise InputError("must be open or settled", field="reconciliation.status")
        sha = rec.get("inputs_sha256")
        if not isinstance(sha, str) or not re.fullmatch(r"[0-9a-f]{64}", sha):
            raise InputError(
                "must be 64 lowercase hex digits", field="reconciliation.inputs_sha256"
            )
        for k in ("parties", "differences", "unchanged", "summary", "settle_action"):
            if not isinstance(rec.get(k), list):
                raise InputError("must be a list", field=f"reconciliation.{k}")
        if len(rec["parties"]) != 2:
            raise InputError("needs exactly two parties", field="reconciliation.parties")
        try:
            return cast("dict[str, Any]", json.loads(canonical_json(dict(rec))))
        except (TypeError, ValueError):
            raise InputError(
                "the reconciliation is not plain JSON", field="reconciliation"
            ) from None

    def add_reconciliation(
        self, actor: Actor, case_id: str, record: Mapping[str, Any]
    ) -> ReconciliationView:
        """Store a reconciliation record (``jbgrade dispute --json``) on the case.

        Immutable: storing again adds a record. The record must be about this case.
        """
        body = self._validate_reconciliation(record, case_id)
        with self._write() as s:
            case, _ = self._case(s, actor, case_id, "reconciliation.add", lock=True)
            r = Reconciliation(
                id=new_id("rcn"),
                case_id=case.id,
                org_id=actor.org_id,
                stored_by=actor.user_id,
                status=body["status"],
                inputs_sha256=body["inputs_sha256"],
                body=canonical_json(body),
                created_at=self._now(),
            )
            s.add(r)
            case.updated_at = r.created_at
            self._log(s, actor, "reconciliation.add", r, case.id)
            s.flush()
            return self._reconciliation_views(s, case.id, only=r.id)[0]

    def _reconciliation_views(
        self, s: Session, case_id: str, only: str | None = None
    ) -> list[ReconciliationView]:
        stmt = (
            case_rows(Reconciliation, case_id, only, User.username, Organization.name)
            .join(User, User.id == Reconciliation.stored_by)
            .join(Organization, Organization.id == Reconciliation.org_id)
        )
        return [
            row_view(
                ReconciliationView,
                r,
                stored_by_name=uname,
                org_name=oname,
                record=json.loads(r.body),
            )
            for r, uname, oname in s.execute(stmt).all()
        ]

    def list_reconciliations(self, actor: Actor, case_id: str) -> list[ReconciliationView]:
        """The reconciliation records stored on the case, oldest first."""
        with self._read() as s:
            self._case(s, actor, case_id, "reconciliation.read")
            return self._reconciliation_views(s, case_id)
