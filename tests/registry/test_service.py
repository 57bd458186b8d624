"""The service layer end to end: report, triage, assess twice, decide, list, audit."""

from __future__ import annotations

from datetime import timedelta

import pytest

from jbgrade import (
    AuthenticationError,
    ConflictError,
    InputError,
    InvalidTransitionError,
    MissingMetricError,
    NotFoundError,
    PermissionDeniedError,
    grade,
)
from jbgrade.evidence import compute_evidence
from jbgrade.registry import Registry
from tests.registry.conftest import Clock, World

LOW = "JBG:1.0/LY:S/UN:N/RL:L/TR:S/HD:W/UP:P/AG:T/AC:M/AU:N/EX:P/ST:U"
EVIDENCE = compute_evidence([], {}).model_dump(mode="json")
HIGH = "JBG:1.0/LY:C/UN:U/RL:H/TR:M/HD:W/UP:F/AG:A/AC:L/AU:Y/EX:P/ST:P"


def decision(action: str = "mitigate", due: str = "2026-06-15") -> dict[str, object]:
    return {
        "action": action,
        "obligations": [
            {"party": "lab", "what": "mitigation", "due": due},
            {"party": "regulator", "what": "initial report", "due": "2026-06-03"},
        ],
        "fired_rules": [{"id": "r1"}],
        "near_misses": [],
        "provisional": False,
        "profile": "lab-frontier",
        "profile_version": "1.0",
        "bundle_sha256": "ab" * 32,
    }


def test_full_workflow(world: World, clock: Clock) -> None:
    reg = world.reg
    rep, lab_a = world.u("researchers", "reporter"), world.u("lab", "assessor")
    gov_a = world.u("gov", "assessor")
    case = reg.report_case(
        rep,
        title="Persona override on chat model",
        summary="Works on the public chat product.",
        owning_org_id=world.lab,
        affected_models=["m-large"],
        affected_vendors=["Frontier Lab"],
        attack_description="Multi-turn persona.",
        payload="synthetic payload",
        embargo_until=clock.now + timedelta(days=90),
    )
    assert case.state == "reported" and case.reporting_org_id == world.researchers
    assert case.payload is None and case.has_payload
    # The lab triages; the reporter may not.
    with pytest.raises(PermissionDeniedError):
        reg.transition(rep, case.id, "triaged")
    reg.transition(lab_a, case.id, "triaged")
    with pytest.raises(InvalidTransitionError, match="needs a assessment"):
        reg.transition(lab_a, case.id, "assessed")
    # Two parties assess and disagree; the government assessor needs a grant first.
    with pytest.raises(NotFoundError):
        reg.add_assessment(gov_a, case.id, HIGH)
    reg.grant_access(lab_a, case.id, world.gov, payload=False)
    a1 = reg.add_assessment(lab_a, case.id, LOW, rationales={"RL": "2/40 attempts"})
    a2 = reg.add_assessment(gov_a, case.id, HIGH, rationales={"RL": "31/40 attempts"})
    assert a1.version == a2.version == 1
    assert a2.score > a1.score
    got = reg.get_case(rep, case.id)
    assert got.score == a2.score and got.severity == a2.severity and got.domain == "W"
    # A revision is a new version; the old one is kept.
    a1b = reg.add_assessment(lab_a, case.id, HIGH, note="retested")
    assert (a1b.version, a1b.supersedes_id) == (2, a1.id)
    current = reg.list_assessments(rep, case.id)
    assert {a.id for a in current} == {a1b.id, a2.id}
    assert len(reg.list_assessments(rep, case.id, history=True)) == 3
    reg.transition(lab_a, case.id, "assessed")
    with pytest.raises(InvalidTransitionError, match="decision"):
        reg.transition(lab_a, case.id, "decided")
    d = reg.record_decision(lab_a, case.id, decision(), assessment_id=a1b.id)
    assert str(d.next_due) == "2026-06-03" and d.current
    reg.transition(lab_a, case.id, "decided")
    reg.transition(lab_a, case.id, "mitigating")
    reg.transition(lab_a, case.id, "retested")
    reg.transition(lab_a, case.id, "mitigating", note="retest failed")
    reg.transition(lab_a, case.id, "retested")
    final = reg.transition(lab_a, case.id, "closed")
    assert [h.to_state for h in final.history] == [
        "triaged",
        "assessed",
        "decided",
        "mitigating",
        "retested",
        "mitigating",
        "retested",
        "closed",
    ]
    with pytest.raises(InvalidTransitionError, match="closed to mitigating"):
        reg.transition(lab_a, case.id, "mitigating")
    trail = reg.audit_trail(rep, case.id)
    assert trail[0].action == "case.report"
    assert [e.seq for e in trail] == sorted(e.seq for e in trail)
    report = reg.verify_audit(world.u("gov", "regulator"))
    assert report.ok, report.problems


def test_forbidden_transition_names_states(world: World) -> None:
    reg = world.reg
    c = reg.report_case(world.u("lab", "assessor"), title="t")
    with pytest.raises(InvalidTransitionError, match="from reported to decided"):
        reg.transition(world.u("lab", "assessor"), c.id, "decided")
    with pytest.raises(InputError, match="unknown state"):
        reg.transition(world.u("lab", "assessor"), c.id, "bogus")


def test_bad_vector_and_rationale_rejected(world: World) -> None:
    reg = world.reg
    a = world.u("lab", "assessor")
    c = reg.report_case(a, title="t")
    with pytest.raises(MissingMetricError):
        reg.add_assessment(a, c.id, "JBG:1.0/LY:S")
    with pytest.raises(InputError, match=r"rationales\.ZZ"):
        reg.add_assessment(a, c.id, LOW, rationales={"ZZ": "x"})
    with pytest.raises(InputError, match="no evidence"):
        reg.add_assessment(a, c.id, LOW, evidence_refs=["evd_missing"])
    ev = reg.attach_evidence(a, c.id, EVIDENCE)
    ok = reg.add_assessment(a, c.id, LOW, evidence_refs=[ev.id, "https://example.org/run/1"])
    assert ok.evidence_refs == [ev.id, "https://example.org/run/1"]


def test_evidence_and_decision_validation(world: World) -> None:
    reg = world.reg
    a = world.u("lab", "assessor")
    c = reg.report_case(a, title="t")
    with pytest.raises(InputError, match="format_version"):
        reg.attach_evidence(a, c.id, {"rates": []})
    with pytest.raises(InputError, match=r"evidence\.counts"):
        reg.attach_evidence(a, c.id, {**EVIDENCE, "counts": {"total": "many"}})
    ev = reg.attach_evidence(a, c.id, compute_evidence([], {}), label="empty run")
    assert ev.body == EVIDENCE and ev.evidence_format_version == "1"
    assert reg.list_evidence(world.u("researchers", "reporter"), c.id)[0].id == ev.id
    with pytest.raises(InputError, match="missing key"):
        reg.record_decision(a, c.id, {"action": "none"})
    bad = decision()
    bad["action"] = "nuke"
    with pytest.raises(InputError, match="unknown action"):
        reg.record_decision(a, c.id, bad)
    bad = decision(due="soon")
    with pytest.raises(InputError, match="ISO date"):
        reg.record_decision(a, c.id, bad)
    d1 = reg.record_decision(a, c.id, decision("monitor"))
    d2 = reg.record_decision(a, c.id, decision("mitigate"))
    views = reg.list_decisions(a, c.id)
    assert [(v.id, v.current) for v in views] == [(d1.id, False), (d2.id, True)]
    assert views[1].result["fired_rules"] == [{"id": "r1"}]


def test_tokens_sessions_passwords(world: World, clock: Clock) -> None:
    reg = world.reg
    a = world.u("lab", "assessor")
    tok = reg.issue_token(a, name="ci", expires_in=timedelta(days=1))
    secret = tok.token.get_secret_value()
    assert secret.startswith("jbg_") and secret not in repr(tok) and secret not in str(tok)
    assert reg.authenticate_token(secret) == a
    with pytest.raises(AuthenticationError):
        reg.authenticate_token(secret[:-1] + ("A" if secret[-1] != "A" else "B"))
    with pytest.raises(AuthenticationError, match="malformed"):
        reg.authenticate_token("nonsense")
    with pytest.raises(AuthenticationError):
        reg.authenticate_session(secret)  # an API token is not a session
    # Others cannot issue tokens for someone else (whom they cannot even see); admins
    # can, for users of their own organisation only.
    with pytest.raises(NotFoundError):
        reg.issue_token(world.u("lab", "reporter"), a.user_id)
    with pytest.raises(NotFoundError):
        reg.issue_token(world.u("other", "admin"), a.user_id)
    reg.issue_token(world.u("lab", "admin"), a.user_id)
    clock.advance(days=2)
    with pytest.raises(AuthenticationError, match="expired"):
        reg.authenticate_token(secret)
    tok2 = reg.issue_token(a)
    reg.revoke_token(a, tok2.id)
    with pytest.raises(AuthenticationError, match="revoked"):
        reg.authenticate_token(tok2.token.get_secret_value())
    # Passwords and sessions.
    with pytest.raises(InputError, match="12 to 1000"):
        reg.set_password(a, a.user_id, "short")
    reg.set_password(a, a.user_id, "correct horse battery staple")
    with pytest.raises(AuthenticationError, match="wrong username or password"):
        reg.authenticate_password(a.username, "wrong horse battery staple")
    with pytest.raises(AuthenticationError, match="wrong username or password"):
        reg.authenticate_password("nobody", "correct horse battery staple")
    who = reg.authenticate_password(a.username, "correct horse battery staple")
    sess = reg.create_session(who)
    s = sess.token.get_secret_value()
    assert reg.authenticate_session(s) == a
    reg.end_session(s)
    with pytest.raises(AuthenticationError):
        reg.authenticate_session(s)
    reg.end_session(s)  # already ended, or unknown: nothing to do
    reg.end_session("jbs_garbage")
    api_tok = reg.issue_token(a).token.get_secret_value()
    reg.end_session(api_tok)  # an API token is not a session: left alone
    assert reg.authenticate_token(api_tok) == a
    # Deactivated users lose every way in.
    tok3 = reg.issue_token(a)
    reg.set_user_active(world.u("lab", "admin"), a.user_id, False)
    with pytest.raises(AuthenticationError):
        reg.authenticate_token(tok3.token.get_secret_value())
    with pytest.raises(AuthenticationError):
        reg.list_cases(a)


def test_bootstrap_once_and_unique_names(registry: Registry) -> None:
    admin, tok = registry.bootstrap("Op", "root")
    assert registry.authenticate_token(tok.token.get_secret_value()) == admin
    with pytest.raises(PermissionDeniedError):
        registry.bootstrap("Op2", "root2")
    with pytest.raises(ConflictError):
        registry.create_org(admin, "Op")
    with pytest.raises(ConflictError):
        registry.create_user(admin, admin.org_id, "root", "assessor")
    with pytest.raises(InputError, match="unknown role"):
        registry.create_user(admin, admin.org_id, "x", "superuser")


def test_list_filters_sort_and_keyset_pages(world: World, clock: Clock) -> None:
    reg = world.reg
    a = world.u("lab", "assessor")
    made = []
    for i in range(23):
        c = reg.report_case(a, title=f"case {i} {'alpha' if i % 3 == 0 else 'beta'}_x%")
        if i % 2 == 0:
            reg.add_assessment(a, c.id, HIGH if i % 4 == 0 else LOW)
        made.append(c.id)
    # Every page boundary is exact: no case twice, none lost, order respected.
    for sort in ("-updated_at", "updated_at", "-created_at", "created_at", "-score", "score"):
        seen: list[str] = []
        cursor = None
        while True:
            page = reg.list_cases(a, sort=sort, limit=5, cursor=cursor, with_total=True)
            assert page.total == 23
            seen += [c.id for c in page.items]
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        assert sorted(seen) == sorted(made), sort
    scores = [c.score for c in reg.list_cases(a, sort="-score", limit=50).items]
    assert [s for s in scores if s is not None] == sorted((s for s in scores if s), reverse=True)
    high = reg.list_cases(a, severity=reg.get_case(a, made[0]).severity or "High", limit=50)
    assert {c.id for c in high.items} == {made[i] for i in range(0, 23, 4)}
    assert len(reg.list_cases(a, text="ALPHA", limit=50).items) == 8
    assert len(reg.list_cases(a, text="_x%", limit=50).items) == 23  # LIKE wildcards escaped
    assert len(reg.list_cases(a, text="pha_x", limit=50).items) == 8
    assert reg.list_cases(a, text="ph__x", limit=50).items == []  # "_" is no wildcard
    assert reg.list_cases(a, domain="W", limit=50).total is None
    assert len(reg.list_cases(a, domain="W", limit=50).items) == 12
    assert len(reg.list_cases(a, state="reported", limit=50).items) == 23
    assert reg.list_cases(a, organization=world.other).items == []
    with pytest.raises(InputError, match="unknown value"):
        reg.list_cases(a, state="nope")
    with pytest.raises(InputError, match="cursor"):
        reg.list_cases(a, cursor="garbage!")
    capped = reg.list_cases(a, limit=5, with_total=True, count_limit=10)
    assert (capped.total, capped.total_capped) == (10, True)
    assert reg.list_cases(a, with_total=True, count_limit=23).total_capped is False
    first = reg.list_cases(a, limit=5)
    assert first.next_cursor is not None
    with pytest.raises(InputError, match="another sort"):
        reg.list_cases(a, sort="score", cursor=first.next_cursor)


def test_decide_with_the_policy_engine_and_replay(world: World) -> None:
    reg = world.reg
    lab_a, lab_r = world.u("lab", "assessor"), world.u("lab", "reporter")
    worst = "JBG:1.0/LY:F/UN:U/RL:H/TR:M/HD:C/UP:F/AG:A/AC:L/AU:Y/EX:O/ST:A"
    c = reg.report_case(lab_a, title="t")
    with pytest.raises(InputError, match="no assessment to decide on: add one, or give a vector"):
        reg.decide(lab_a, c.id, "lab-frontier")
    low = reg.add_assessment(lab_a, c.id, LOW)
    reg.grant_access(lab_a, c.id, world.gov)
    reg.add_assessment(world.u("gov", "assessor"), c.id, worst)
    with pytest.raises(PermissionDeniedError):
        reg.decide(lab_r, c.id, "lab-frontier")
    d = reg.decide(lab_a, c.id, "lab-frontier")  # the highest current assessment
    assert d.action == "block_deployment" and d.result["vector"] == worst
    assert d.result["aware_on"] == reg.get_case(lab_a, c.id).created_at.date().isoformat()
    assert d.next_due is not None
    d_low = reg.decide(lab_a, c.id, "lab-frontier", assessment_id=low.id, aware_on="2026-06-02")
    assert d_low.action in ("none", "monitor") and d_low.assessment_id == low.id
    assert reg.replay_decision(lab_r, d.id).id == d.id
    # A grade not recorded as an assessment (e.g. what a lower value would change).
    d_vec = reg.decide(lab_a, c.id, "lab-frontier", vector=LOW, context={"deployment": "internal"})
    assert d_vec.assessment_id is None and d_vec.result["vector"] == LOW
    assert d_vec.result["context_given"] == {"deployment": "internal"}
    assert reg.replay_decision(lab_r, d_vec.id, case_id=c.id).id == d_vec.id
    other = reg.report_case(lab_a, title="another case")
    with pytest.raises(NotFoundError):
        reg.replay_decision(lab_r, d_vec.id, case_id=other.id)
    # The government revises its grade downwards: its superseded, higher version no
    # longer counts; the highest *current* one is decided on.
    revised = reg.add_assessment(world.u("gov", "assessor"), c.id, HIGH)
    assert revised.version == 2 and grade(HIGH).score < grade(worst).score
    assert reg.decide(lab_a, c.id, "lab-frontier").assessment_id == revised.id
    outside = reg.record_decision(lab_a, c.id, decision())
    with pytest.raises(InputError, match="cannot replay"):
        reg.replay_decision(lab_a, outside.id)


def test_organization_filter_pages_through_both_sides(world: World) -> None:
    reg = world.reg
    rep, lab_a = world.u("researchers", "reporter"), world.u("lab", "assessor")
    want = set()
    for i in range(13):
        # reported by the researchers about the lab, or by the lab itself, or unrelated
        if i % 3 == 0:
            c = reg.report_case(rep, title=f"r{i}", owning_org_id=world.lab)
            want.add(c.id)
        elif i % 3 == 1:
            c = reg.report_case(lab_a, title=f"l{i}")
            want.add(c.id)
        else:
            reg.report_case(rep, title=f"o{i}", owning_org_id=world.other)
    for sort in ("-updated_at", "updated_at", "-score"):
        seen, cursor = [], None
        while True:
            page = reg.list_cases(lab_a, organization=world.lab, limit=2, cursor=cursor, sort=sort)
            seen += page.items
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        assert {c.id for c in seen} == want and len(seen) == len(want), sort
        if sort != "-score":
            keys = [c.updated_at for c in seen]
            assert keys == sorted(keys, reverse=sort.startswith("-")), sort
    assert reg.list_cases(lab_a, organization=world.lab, with_total=True).total == len(want)
