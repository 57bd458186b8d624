"""``decide``: grade + context + profile -> Decision, with a full trace.

Deterministic: the same grade, context, dates and profile bundle give the same
decision (see :func:`replay`). The action is the maximum of the fired rules'
actions; obligations are the union of their obligations, with due dates from
the awareness date (or the notification / patch date when given).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from jbgrade._errors import PolicyError
from jbgrade.policy._compile import Compiled, CtxEval, Outcome, PartInfo
from jbgrade.policy._explain import (
    _assumption_entry,
    _concrete_obligations,
    _context_memo,
    _Ctx,
    _fired_rule,
    _gate_entry,
    _input_spec,
    _not_in_force,
    _profile_memo,
)
from jbgrade.policy._load import list_profiles, load_profile
from jbgrade.policy._model import (
    DECISION_FORMAT_VERSION,
    Decision,
    FiredRule,
    NearMiss,
    Obligation,
    lazy_decision,
)
from jbgrade.policy._near import _near_misses
from jbgrade.policy._profile import Profile
from jbgrade.rubric import Grade, Grader

__all__ = ["decide", "decide_all", "replay"]

_Date = _dt.date | str | None


def _date(v: _Date, what: str) -> _dt.date | None:
    if v is None or isinstance(v, _dt.date):
        return v.date() if isinstance(v, _dt.datetime) else v
    try:
        return _dt.date.fromisoformat(v)
    except ValueError:
        raise PolicyError(f"{what} must be an ISO date (YYYY-MM-DD), got {v!r}") from None


def _grader(profile: Profile) -> Grader:
    from jbgrade.rubric import VERSIONS, grader_for, tables_for

    v = profile.tables.version
    if v in VERSIONS and profile.tables is tables_for(v):
        return grader_for(v)
    return Grader(profile.tables)


def _grade_version(g: Grade | str) -> str | None:
    if isinstance(g, Grade):
        return g.version
    if isinstance(g, str):
        s = g.strip()
        if s.startswith("JBG:"):
            return s[4:].partition("/")[0]
    return None


def _for_grade(prof: Profile, g: Grade | str) -> Profile:
    """The edition of a shipped profile that reads ``g``'s JBG version.

    The shipped profiles read JBG 1.1 grades; each keeps its JBG 1.0 edition
    (``data/profiles/jbg-1.0/``), which decides 1.0 grades exactly as before 1.1, so
    recorded 1.0 decisions replay and 1.0 grades are still accepted. New work grades
    in 1.1 (``jbgrade migrate`` maps a 1.0 vector). A user's own profile file is never
    swapped: a version mismatch is reported as such.
    """
    ver = _grade_version(g)
    if ver is None or ver == prof.tables.version:
        return prof
    from jbgrade.policy._load import profile_edition

    try:
        cur = profile_edition(prof.id, prof.tables.version)
        ed = profile_edition(prof.id, ver)
    except PolicyError:
        return prof
    if cur is None or ed is None or cur.bundle_sha256 != prof.bundle_sha256:
        return prof
    return ed


def _edition_of(prof: Profile, bundle: object, g: Grade | str) -> Profile:
    """The shipped edition of ``prof`` whose bundle hash is ``bundle`` and which reads
    ``g``'s version (for replaying decisions made under an older edition)."""
    ver = _grade_version(g)
    if ver is None or prof.has_bundle(bundle):
        return prof
    from jbgrade.policy._load import profile_edition

    try:
        cur = profile_edition(prof.id, prof.tables.version)
        ed = profile_edition(prof.id, ver)
    except PolicyError:
        return prof
    if cur is None or cur.bundle_sha256 != prof.bundle_sha256:
        return prof  # a user's own profile is never swapped
    return ed if ed is not None and ed.bundle_sha256 == bundle else prof


def _grade(g: Grade | str, profile: Profile) -> Grade:
    if isinstance(g, Grade):
        if g.version != profile.tables.version:
            raise PolicyError(
                f"grade is JBG {g.version}, profile {profile.id} is for {profile.tables.version}"
                + (" (migrate it: jbgrade migrate VECTOR --to 1.1)" if g.version == "1.0" else "")
            )
        return g
    if not isinstance(g, str):
        raise PolicyError(f"decide() needs a Grade or a vector string, got {type(g).__name__}")
    return _grader(profile).grade(g.strip())


# What a decision is: the profile not in force, not applicable, or rules fired.
_NONE = Outcome("none", 0, (), ())
_NOT_IN_FORCE, _NOT_APPLICABLE, _FIRED = 0, 1, 2


class _Explainer:
    """What a Decision from :func:`decide` keeps to explain itself on first use.

    Everything here is immutable or append-only memo; explaining later gives
    exactly what explaining at once gives (tests/policy/test_lazy.py checks it
    against the eager engine on random vectors, contexts and dates).
    """

    __slots__ = ("aware", "ce", "comp", "fired", "mode", "out", "parts")

    def __init__(
        self,
        comp: Compiled,
        parts: tuple[PartInfo, PartInfo, PartInfo],
        ce: CtxEval,
        *,
        mode: int,
        out: Outcome,
        fired: int,
        aware: _dt.date,
    ):
        self.comp = comp
        self.parts = parts
        self.ce = ce
        self.mode = mode
        self.out = out
        self.fired = fired
        self.aware = aware

    def fired_rules(self) -> list[FiredRule]:
        comp, ce = self.comp, self.ce
        prof = comp.profile
        if self.mode == _NOT_IN_FORCE:
            return [FiredRule.model_validate(_not_in_force(prof, self.aware))]
        cmemo = _context_memo(ce)
        cx = _Ctx(comp, self.parts, ce)
        head = cmemo.get("head")
        if head is None:
            # Gate and assumption entries test context only: one per context.
            entries = (_gate_entry(prof, cx), _assumption_entry(prof, ce))
            head = cmemo["head"] = tuple(FiredRule.model_validate(x) for x in entries if x)
        res = list(head)
        if self.mode == _FIRED:
            pmemo = _profile_memo(comp)
            parts = self.parts
            for r in prof.rules:
                if not self.fired >> r.index & 1:
                    continue
                has_ctx, spec = _input_spec(comp, r)
                vals: list[Any] = ["rule", r.index]
                for code, ci, pos in spec:
                    if code == 0:
                        vals.append(parts[ci].letters[pos])
                    elif code == 1:
                        vals.append(parts[ci].level)
                    elif code == 2:
                        vals.append(cx.cell)
                    else:
                        vals.append(cx.systemic if code == 3 else cx.provisional)
                key = tuple(vals)
                memo = cmemo if has_ctx else pmemo
                fr = memo.get(key)
                if fr is None:
                    fr = memo[key] = FiredRule.model_validate(_fired_rule(r, cx))
                res.append(fr)
        return res

    def near_misses(self) -> list[NearMiss]:
        if self.mode == _NOT_IN_FORCE:
            return []
        cx = _Ctx(self.comp, self.parts, self.ce)
        return _near_misses(self.comp, cx, self.out, self.fired)


def decide(
    grade: Grade | str,
    context: Mapping[str, Any] | None = None,
    profile: str | Path | Profile | None = None,
    *,
    aware_on: _Date = None,
    notified_on: _Date = None,
    patched_on: _Date = None,
) -> Decision:
    """Decide what ``profile`` requires for ``grade`` in ``context``.

    ``grade`` is a :class:`~jbgrade.Grade` or a JBG vector string; ``context``
    maps the profile's declared context fields to values (missing fields take
    the profile's precautionary default and make the decision provisional);
    ``profile`` is a shipped profile name, a profile file path or a loaded
    :class:`Profile`. Due dates count from ``aware_on`` (default: today);
    obligations whose clock starts at notification or patch use
    ``notified_on`` / ``patched_on`` when given, else the awareness date
    (the earliest those events can happen), and say so.

    The action, obligations and ``provisional`` are computed here; the
    explanation (``fired_rules``, ``near_misses``) when first read or
    serialised - the same values either way.
    """
    if profile is None:
        raise PolicyError(f"decide() needs a profile; available: {', '.join(list_profiles())}")
    prof = profile if isinstance(profile, Profile) else load_profile(profile)
    prof = _for_grade(prof, grade)
    g = _grade(grade, prof)
    aware = _date(aware_on, "aware_on") or _dt.date.today()
    notified = _date(notified_on, "notified_on") if notified_on is not None else None
    patched = _date(patched_on, "patched_on") if patched_on is not None else None
    for name, d in (("notification", notified), ("patch", patched)):
        if d is not None and d < aware:
            raise PolicyError(f"the {name} date {d} is before the awareness date {aware}")
    comp = prof.compiled
    parts = comp.space.parts_of(g[0])
    ce = comp.context(context)
    bp, ec, ri = parts
    has_x = bp.has_x or ec.has_x or ri.has_x
    obligations: list[Obligation] = []
    out, fired = _NONE, 0
    if not prof.in_force(aware):
        mode, action = _NOT_IN_FORCE, "none"
    elif not ce.applicable:
        mode, action = _NOT_APPLICABLE, "none"
    else:
        mode = _FIRED
        fired = ce.mask & comp.grade_mask(bp, ec, ri, has_x)
        if not fired:
            raise PolicyError(
                f"profile {prof.id}: no rule covers {g[0]} in this context "
                "(a coverage gap: run 'jbgrade policy check')",
                path=prof.source,
            )
        out = comp.outcome(fired)
        action = out.action
        if out.obligations:
            obligations = list(
                _concrete_obligations(
                    comp, out, fired, aware=aware, notified=notified, patched=patched
                )
            )
    return lazy_decision(
        {
            "format_version": DECISION_FORMAT_VERSION,
            "action": action,
            "obligations": obligations,
            "provisional": has_x or bool(ce.assumed),
            "profile": prof.id,
            "profile_version": prof.version,
            "bundle_sha256": prof.bundle_sha256,
            "vector": g[0],
            "aware_on": aware,
            "context": dict(ce.values),
        },
        _Explainer(comp, parts, ce, mode=mode, out=out, fired=fired, aware=aware),
    )


def decide_all(
    grade: Grade | str,
    context: Mapping[str, Any] | None = None,
    profiles: Iterable[str | Path | Profile] | None = None,
    **dates: _Date,
) -> dict[str, Decision]:
    """Decide under several profiles (default: every shipped one), by profile id."""
    refs = list(profiles) if profiles is not None else list_profiles()
    out: dict[str, Decision] = {}
    for ref in refs:
        d = decide(grade, context, ref, **dates)
        out[d.profile] = d
    return out


def replay(
    decision: Decision | Mapping[str, Any],
    grade: Grade | str,
    context: Mapping[str, Any] | None = None,
    profile: str | Path | Profile | None = None,
    **dates: _Date,
) -> Decision:
    """Recompute a recorded decision and check it is the same.

    Raises :class:`~jbgrade.PolicyError` when the profile's bundle hash differs
    from the recorded one (a different policy: not a replay) or when the
    recomputed decision differs. Returns the recomputed decision.
    """
    rec = decision.to_dict() if isinstance(decision, Decision) else dict(decision)
    prof = load_profile(profile if profile is not None else rec.get("profile", ""))
    prof = _edition_of(prof, rec.get("bundle_sha256"), grade)
    if not prof.has_bundle(rec.get("bundle_sha256")):
        raise PolicyError(
            f"bundle mismatch: decision was made with {str(rec.get('bundle_sha256'))[:16]}..., "
            f"profile {prof.id} {prof.version} is {prof.bundle_sha256[:16]}..."
        )
    again = decide(grade, context, prof, **dates)
    # A decision recorded under bundle format 1 carries that hash of the same bundle.
    if {**again.to_dict(), "bundle_sha256": rec.get("bundle_sha256")} != rec:
        raise PolicyError(f"replay differs from the recorded decision under {prof.id}")
    return again
