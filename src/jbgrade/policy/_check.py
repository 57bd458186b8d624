"""``policy check``: exhaustive validation of a profile, SSVC style.

Checks, over every concrete JBG vector (139,968 for JBG 1.0), both values of
the provisional flag where an X is possible, and every representative
context combination:

* **coverage** - wherever the profile applies, at least one rule fires, so
  every point has exactly one decision (max action + union of obligations is
  a function of the fired set; a point where nothing fires has none);
* **monotonicity** - raising any one metric by one step never lowers the
  action nor drops an obligation. Every vector that is at least as high on
  every metric is reached from the lower one by a chain of such single-step
  raises, so checking them all proves it for the whole product order. The
  same holds along each ``ordered`` context field and from provisional=false
  to true (precaution never weakens a decision);
* **reachability** - every rule fires somewhere;
* **shadowing** - every rule changes at least one decision (else it is dead
  text that reviewers will misread);
* **domains** - every hazard domain that can reach Critical declares an
  unacceptable tier whose rule acts ``block_deployment`` and fires for that
  domain;
* **precaution** (profiles for JBG 1.1 and later) - precaution informs rather
  than halts: the all-X grade (nothing assessed) blocks nothing and files no
  incident report in any context where the profile applies, but carries an
  obligation of kind ``assess`` with a deadline; and wherever a provisional grade
  decides less than the same grade confirmed would, the provisional decision
  carries such an ``assess`` obligation (for 1.0 profiles, provisional may never
  weaken a decision).

Violations carry the file, the line and the rule id.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

from jbgrade.policy._check_report import CheckReport, Finding, context_text
from jbgrade.policy._compile import Compiled, Outcome
from jbgrade.policy._enum import CtxPoint, GradeClasses, context_points
from jbgrade.policy._load import load_profile
from jbgrade.policy._profile import Profile
from jbgrade.rubric import CRITERIA, SEVERITIES

__all__ = ["CheckReport", "Finding", "check_profile", "check_profiles"]


class _Checker:
    def __init__(self, prof: Profile, max_examples: int):
        self.p = prof
        self.comp: Compiled = prof.compiled
        self.max = max_examples
        self.rep = CheckReport(prof.id, prof.version, prof.source, prof.bundle_sha256)
        self._counts: dict[tuple[str, str | None], int] = {}

    def add(
        self,
        check: str,
        msg: str,
        rule: str | None = None,
        example: dict[str, Any] | None = None,
        line: int | None = None,
    ) -> None:
        k = (check, rule)
        n = self._counts.get(k, 0)
        self._counts[k] = n + 1
        if n >= self.max:
            return
        if line is None:
            line = self.p.rule(rule).line if rule else self.p.line_of(("rules",))
        self.rep.findings.append(Finding(check, msg, self.p.source, line, rule, example))

    def out(self, fired: int) -> Outcome | None:
        return self.comp.outcome(fired) if fired else None

    # ------------------------------------------------------------------------
    def run(self) -> CheckReport:
        t0 = time.perf_counter()
        comp = self.comp
        gc = GradeClasses(comp.space, [comp])
        names, reps, points = context_points([comp])
        self.gc, self.points = gc, points
        appl = [pt for pt in points if pt.applicable[0]]
        if not appl:
            self.add("coverage", "the profile applies in no declared context (applies_when)")
        # Distinct grade masks (prov false / true) with one example each.
        gm_ex: dict[int, tuple[str, bool, int]] = {}
        self.gm0: dict[tuple[int, int, int], int] = {}
        self.gm1: dict[tuple[int, int, int], int] = {}
        for i, j, k, _n in gc.triples():
            m0 = gc.grade_mask(comp, i, j, k, False)
            self.gm0[i, j, k] = m0
            gm_ex.setdefault(m0, (gc.vector(i, j, k), False, 0))
            if gc.can_be_x(i, j, k):
                m1 = gc.grade_mask(comp, i, j, k, True)
                self.gm1[i, j, k] = m1
                gm_ex.setdefault(m1, (gc.vector(i, j, k), True, 0))
        cms: dict[int, CtxPoint] = {}
        for pt in appl:
            cms.setdefault(pt.masks[0], pt)
        self.cms = cms
        fired_all: dict[int, tuple[str, bool, dict[str, Any]]] = {}
        for gm, (vec, prov, _) in gm_ex.items():
            for cm, pt in cms.items():
                f = gm & cm
                if not f:
                    self.add(
                        "coverage",
                        f"no rule fires for {vec}"
                        + (" (provisional)" if prov else "")
                        + f" in context {context_text(pt.values)}: "
                        + "add a baseline rule (when: {})",
                        example={"vector": vec, "provisional": prov, "context": pt.values},
                    )
                    continue
                fired_all.setdefault(f, (vec, prov, pt.values))
        self._reach_and_shadow(fired_all)
        self._monotone_grade()
        self._monotone_prov()
        self._monotone_context(names, reps)
        self._domains()
        self._precaution()
        self._notes()
        n_ctx = len(points)
        self.rep.stats = {
            "vectors": comp.space.total,
            "single_step_raises": gc.raise_count(),
            "context_combinations": n_ctx,
            "context_fields": {n: [_v(x) for x in reps[n]] for n in names},
            "points": comp.space.total * n_ctx,
            "classes": {c: len(gc.members[c]) for c in CRITERIA},
            "distinct_grade_masks": len(gm_ex),
            "distinct_context_masks": len(cms),
            "distinct_fired_sets": len(fired_all),
            "rules": len(self.p.rules),
            "violations": {
                f"{c}:{r}" if r else c: n
                for (c, r), n in sorted(
                    self._counts.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")
                )
            },
        }
        self.rep.seconds = time.perf_counter() - t0
        return self.rep

    def _reach_and_shadow(self, fired_all: dict[int, tuple[str, bool, dict[str, Any]]]) -> None:
        comp = self.comp
        matters = 0
        reached = 0
        for f in fired_all:
            reached |= f
            out = comp.outcome(f)
            bits = f
            while bits:
                low = bits & -bits
                bits ^= low
                rest = f & ~low
                if not rest or comp.outcome(rest)[1:3] != out[1:3]:
                    matters |= low
        for r in self.p.rules:
            b = 1 << r.index
            if not reached & b:
                self.add(
                    "reachability",
                    "never fires for any grade and declared context",
                    rule=r.id,
                )
            elif not matters & b:
                self.add(
                    "shadowing",
                    "fires but never changes a decision: wherever it fires, other rules "
                    "already give at least its action and all of its obligations",
                    rule=r.id,
                )

    def _compare(
        self,
        before: int,
        after: int,
        what: str,
        example: dict[str, Any],
    ) -> None:
        if not before or not after or before == after:
            return  # gaps are coverage findings
        a, b = self.comp.outcome(before), self.comp.outcome(after)
        lost = set(a.obligations) - set(b.obligations)
        if b.rank >= a.rank and not lost:
            return
        # Blame a rule that stops firing and carried the lost action or obligation.
        gone = [r for r in self.p.rules if before >> r.index & 1 and not after >> r.index & 1]
        culprit = next(
            (r for r in gone if r.rank > b.rank or set(r.obligations) & lost),
            gone[0] if gone else None,
        )
        if b.rank < a.rank:
            msg = f"{what} lowers the action from {a.action} to {b.action}"
        else:
            msg = f"{what} drops obligations {', '.join(sorted(lost))}"
        if culprit is not None:
            msg += f" (rule {culprit.id} stops firing)"
        self.add(
            "monotonicity",
            msg,
            rule=culprit.id if culprit else None,
            example={**example, "before": a.action, "after": b.action, "lost": sorted(lost)},
        )

    def _monotone_grade(self) -> None:
        gc = self.gc
        seen: set[tuple[int, int, int]] = set()
        nb, ne, nr = (len(gc.members[c]) for c in CRITERIA)
        for ci, c in enumerate(CRITERIA):
            for (x, y), (metric, frm, to, k_lo, k_hi) in gc.edges(c).items():
                for o1 in range((nb, ne, nr)[(ci + 1) % 3]):
                    for o2 in range((nb, ne, nr)[(ci + 2) % 3]):
                        t1 = _place(ci, x, o1, o2)
                        t2 = _place(ci, y, o1, o2)
                        for gm in (self.gm0, self.gm1):
                            if t1 not in gm or t2 not in gm:
                                continue
                            b, a = gm[t1], gm[t2]
                            if b == a or (b, a, 0) in seen:
                                continue
                            seen.add((b, a, 0))
                            rep_vec = gc.vector(*t1)
                            low = rep_vec.replace(gc.rep(c, x).key, k_lo, 1)
                            high = rep_vec.replace(gc.rep(c, x).key, k_hi, 1)
                            for cm, pt in self.cms.items():
                                self._compare(
                                    b & cm,
                                    a & cm,
                                    f"raising {metric} {frm}->{to}",
                                    {
                                        "vector": low,
                                        "raised": high,
                                        "provisional": gm is self.gm1,
                                        "context": pt.values,
                                    },
                                )

    def _informs(self) -> bool:
        """Precaution informs (JBG 1.1 profiles): provisional may decide less, with an assess
        obligation."""
        return self.p.tables.version != "1.0"

    def _assesses(self, fired: int) -> bool:
        if not fired:
            return False
        obs = self.p.obligations
        return any(obs[o].kind == "assess" for o in self.comp.outcome(fired).obligations)

    def _precaution(self) -> None:
        if not self._informs():
            return
        comp, p = self.comp, self.p
        sp = comp.space
        allx = sp.tables.prefix + "/".join(f"{m.key}:X" for m in sp.tables.metrics)
        bp, ec, ri = sp.parts_of(allx)
        gm = comp.grade_mask(bp, ec, ri, True)
        halting = ("suspend", "report.initial", "report.intermediate", "report.final")
        for cm, pt in self.cms.items():
            f = gm & cm
            if not f:
                continue  # a coverage finding already
            o = comp.outcome(f)
            ex = {"vector": allx, "provisional": True, "context": pt.values}
            if o.action == "block_deployment":
                self.add(
                    "precaution",
                    "the all-X grade (nothing assessed) blocks deployment: precaution must "
                    "inform, not halt (guard the rule with 'provisional: false')",
                    rule=next(
                        (r.id for r in p.rules if f >> r.index & 1 and r.action == o.action),
                        None,
                    ),
                    example=ex,
                )
            bad = [oid for oid in o.obligations if p.obligations[oid].kind in halting]
            if bad:
                self.add(
                    "precaution",
                    f"the all-X grade files or halts: {', '.join(bad)} (incident reports and "
                    "suspensions need assessed facts)",
                    example=ex,
                )
            if not any(p.obligations[oid].kind == "assess" for oid in o.obligations):
                self.add(
                    "precaution",
                    "the all-X grade carries no obligation of kind 'assess' (complete the "
                    "assessment, with a deadline)",
                    example=ex,
                )

    def _monotone_prov(self) -> None:
        seen: set[tuple[int, int]] = set()
        informs = self._informs()
        for t, m1 in self.gm1.items():
            m0 = self.gm0[t]
            if m0 == m1 or (m0, m1) in seen:
                continue
            seen.add((m0, m1))
            for cm, pt in self.cms.items():
                if informs and self._assesses(m1 & cm):
                    continue  # precaution informs: a provisional decision may be lighter
                self._compare(
                    m0 & cm,
                    m1 & cm,
                    "marking a metric X (provisional)",
                    {"vector": self.gc.vector(*t), "context": pt.values},
                )

    def _monotone_context(self, names: list[str], reps: dict[str, list[Any]]) -> None:
        p = self.p
        gms: dict[int, str] = {}
        for t, m in self.gm0.items():
            gms.setdefault(m, self.gc.vector(*t))
        for t, m in self.gm1.items():
            gms.setdefault(m, self.gc.vector(*t))
        by_values = {tuple(_v(pt.values[n]) for n in names): pt for pt in self.points}
        for fi, name in enumerate(names):
            if not p.context[name].ordered:
                continue
            vals = reps[name]
            done: set[tuple[int, int]] = set()
            for pt in self.points:
                cur = pt.values[name]
                pos = vals.index(cur)
                if pos + 1 >= len(vals):
                    continue
                key = [_v(pt.values[n]) for n in names]
                key[fi] = _v(vals[pos + 1])
                nxt = by_values[tuple(key)]
                b, a = pt.masks[0], nxt.masks[0]
                if (b, a) in done:
                    continue
                done.add((b, a))
                what = f"raising context.{name} {_v(cur)}->{_v(vals[pos + 1])}"
                if pt.applicable[0] and not nxt.applicable[0]:
                    self.add(
                        "monotonicity",
                        f"{what} makes the profile stop applying (applies_when)",
                        example={"context": pt.values},
                    )
                    continue
                if not pt.applicable[0]:
                    continue
                for gm, vec in gms.items():
                    self._compare(gm & b, gm & a, what, {"vector": vec, "context": pt.values})

    def _domains(self) -> None:
        p, comp, gc = self.p, self.comp, self.gc
        sp = comp.space
        if "HD" not in sp.metric_crit:
            return
        hd_c, hd_pos = sp.metric_crit["HD"]
        crit_idx = CRITERIA.index(hd_c)
        # Domains that can reach Critical in the rubric must define an unacceptable tier.
        top = SEVERITIES.index("Critical")
        can_crit: set[str] = set()
        for i, j, k, _ in gc.triples():
            t = (i, j, k)
            part = gc.rep(hd_c, t[crit_idx])
            if sp.sev[sp.cell(gc.rep("BP", i), gc.rep("EC", j), gc.rep("RI", k))] == top:
                can_crit.add(part.resolved[hd_pos])
        for letter in sorted(can_crit):
            if letter not in p.domains:
                name = sp.tables.metric("HD").meanings[sp.tables.metric("HD").letters.index(letter)]
                self.add(
                    "domains",
                    f"hazard domain HD:{letter} ({name}) can reach Critical but declares "
                    f"no unacceptable tier (domains.{letter}.unacceptable)",
                    line=p.line_of(("domains",)) or 1,
                )
        for d in p.domains.values():
            r = p.rule(d.unacceptable)
            if r.action != "block_deployment":
                self.add(
                    "domains",
                    f"unacceptable tier of HD:{d.letter} maps to {r.action}, not block_deployment",
                    rule=r.id,
                )
                continue
            bit = 1 << r.index
            hit = False
            for t, gm in self.gm0.items():
                if gc.rep(hd_c, t[crit_idx]).resolved[hd_pos] != d.letter or not gm & bit:
                    continue
                if any(gm & cm & bit for cm in self.cms):
                    hit = True
                    break
            if not hit:
                self.add(
                    "domains",
                    f"unacceptable tier of HD:{d.letter} never fires for a grade "
                    f"with HD:{d.letter}",
                    rule=r.id,
                )

    def _notes(self) -> None:
        for f in self.p.context.values():
            if f.ordered and f.type == "enum" and f.default != f.values[-1]:
                self.rep.notes.append(
                    f"context.{f.name}: precautionary default {f.default!r} is not the riskiest "
                    f"value {f.values[-1]!r} ({f.default_reason})"
                )
        if self.p.illustrative:
            n = sum(1 for r in self.p.rules if r.citation.illustrative)
            m = sum(1 for r in self.p.rules if r.citation.mapping == "illustrative")
            self.rep.notes.append(
                f"illustrative profile: of {len(self.p.rules)} rules, {n} cite no official "
                f"text and {m} map grades onto official text by illustration"
            )


def _place(ci: int, x: int, o1: int, o2: int) -> tuple[int, int, int]:
    t = [0, 0, 0]
    t[ci] = x
    t[(ci + 1) % 3] = o1
    t[(ci + 2) % 3] = o2
    return t[0], t[1], t[2]


def _v(x: Any) -> Any:
    return float(x) if isinstance(x, int | float) and not isinstance(x, bool) else x


def check_profile(profile: str | Profile, *, max_examples: int = 3) -> CheckReport:
    """Check one profile exhaustively; returns a report (never raises on findings)."""
    return _Checker(load_profile(profile), max_examples).run()


def check_profiles(
    profiles: Iterable[str | Profile] | None = None, *, max_examples: int = 3
) -> list[CheckReport]:
    """Check several profiles (default: every shipped one)."""
    from jbgrade.policy._load import list_profiles

    refs: Sequence[str | Profile] = list(profiles) if profiles is not None else list_profiles()
    return [check_profile(r, max_examples=max_examples) for r in refs]
