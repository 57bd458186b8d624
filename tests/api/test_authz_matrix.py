"""Authorization matrix: every route x role x relation to the case x embargo state,
and for identity routes every role x the acting user's organisation (the target
user or organisation is the actor's own, or another).

The routes come from the app's own route table, so a new endpoint cannot
escape: ``test_every_route_has_an_expectation`` fails until it is added to
``EXPECT`` below. Expected outcomes come from the registry's published
permission table (``GET /api/v1/permissions``), independently of the handler
code: ``ok`` -> 2xx/303, ``denied`` -> 403, ``not_found`` -> 404 (embargoed or
unrelated cases are not even confirmed to exist), anonymous -> 401 (API and
form posts) or a redirect to the login page (pages).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import product
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts
from starlette.routing import Mount
from starlette.testclient import TestClient

from jbgrade.api import Settings
from jbgrade.evidence import compute_evidence
from jbgrade.registry import Actor, Keyring, Registry, make_engine, permissions, upgrade
from jbgrade.web import create_app

ROLES = ("anonymous", "reporter", "assessor", "regulator", "admin", "superadmin")
RELATIONS = ("reporting", "owning", "granted", "other")
# The acting user's organisation against the target's: own organisation or another.
ORG_RELATIONS = ("same_org", "other")
EMBARGO = (False, True)
VECTOR = "JBG:1.0/LY:S/UN:D/RL:M/TR:S/HD:W/UP:P/AG:T/AC:M/AU:N/EX:P/ST:U"
CANARY = "CANARY-MATRIX-5d1e"
EVIDENCE = compute_evidence([], {}).model_dump(mode="json")

# What governs each route. ("public",): anyone. ("auth",): any logged-in user.
# ("case", action): a registry action on the case. ("global", action): not about a case.
# ("user", action): about another user's record. ("org", action): in an organisation.
EXPECT: dict[tuple[str, str], tuple[str, ...]] = {
    ("GET", "/api/v1/openapi.json"): ("public",),
    ("GET", "/api/v1/health"): ("public",),
    ("POST", "/api/v1/grade"): ("public",),
    ("GET", "/api/v1/problems"): ("public",),
    ("GET", "/api/v1/problems/{slug}"): ("public",),
    ("POST", "/api/v1/decide"): ("public",),
    ("GET", "/api/v1/profiles"): ("public",),
    ("GET", "/api/v1/permissions"): ("public",),
    ("GET", "/api/v1/lifecycle"): ("public",),
    ("GET", "/api/v1/me"): ("auth",),
    ("GET", "/api/v1/orgs"): ("global", "org.read"),
    ("POST", "/api/v1/orgs"): ("global", "org.create"),
    ("GET", "/api/v1/orgs/{org_id}"): ("global", "org.read"),
    ("GET", "/api/v1/users"): ("auth",),  # non-admins see only themselves
    ("POST", "/api/v1/users"): ("org", "user.create"),
    ("GET", "/api/v1/users/{user_id}"): ("user", "user.read"),
    ("POST", "/api/v1/users/{user_id}/password"): ("user", "user.set_password"),
    ("POST", "/api/v1/users/{user_id}/role"): ("user", "user.set_role"),
    ("POST", "/api/v1/users/{user_id}/active"): ("user", "user.set_active"),
    ("POST", "/api/v1/tokens"): ("auth",),  # for yourself: token.issue allows self to all
    ("DELETE", "/api/v1/tokens/{token_id}"): ("user", "token.revoke"),
    ("GET", "/api/v1/cases"): ("auth",),  # lists only what the caller may see
    ("POST", "/api/v1/cases"): ("global", "case.report"),
    ("GET", "/api/v1/cases/{case_id}"): ("case", "case.read"),
    ("POST", "/api/v1/cases/{case_id}/transitions"): ("case", "case.transition"),
    ("POST", "/api/v1/cases/{case_id}/grants"): ("case", "case.grant"),
    ("DELETE", "/api/v1/cases/{case_id}/grants/{org_id}"): ("case", "case.grant"),
    ("GET", "/api/v1/cases/{case_id}/assessments"): ("case", "case.read"),
    ("POST", "/api/v1/cases/{case_id}/assessments"): ("case", "assessment.add"),
    ("GET", "/api/v1/cases/{case_id}/evidence"): ("case", "case.read"),
    ("POST", "/api/v1/cases/{case_id}/evidence"): ("case", "evidence.attach"),
    ("GET", "/api/v1/cases/{case_id}/decisions"): ("case", "case.read"),
    ("POST", "/api/v1/cases/{case_id}/decisions"): ("case", "decision.record"),
    ("GET", "/api/v1/cases/{case_id}/decisions/{decision_id}/replay"): ("case", "case.read"),
    ("GET", "/api/v1/cases/{case_id}/audit"): ("case", "case.read"),
    ("GET", "/api/v1/cases/{case_id}/reconciliations"): ("case", "reconciliation.read"),
    ("POST", "/api/v1/cases/{case_id}/reconciliations"): ("case", "reconciliation.add"),
    ("GET", "/api/v1/audit/verify"): ("global", "audit.verify"),
    # Browser pages and forms.
    ("GET", "/"): ("public",),
    ("GET", "/calculator"): ("public",),
    ("GET", "/calculator/scorecard.png"): ("public",),  # a grade from a vector: no case data
    ("GET", "/calculator/scorecard.svg"): ("public",),
    ("GET", "/calculator/scorecard.txt"): ("public",),
    ("GET", "/login"): ("public",),
    ("POST", "/login"): ("public",),
    ("POST", "/logout"): ("public",),  # ends the session if there is one
    ("GET", "/cases"): ("auth",),
    ("GET", "/cases/new"): ("auth",),
    ("POST", "/cases"): ("global", "case.report"),
    ("GET", "/cases/{case_id}"): ("case", "case.read"),
    ("POST", "/cases/{case_id}/payload"): ("case", "case.read_payload"),
    ("POST", "/cases/{case_id}/transitions"): ("case", "case.transition"),
    ("POST", "/cases/{case_id}/assessments"): ("case", "assessment.add"),
    ("POST", "/cases/{case_id}/decisions"): ("case", "decision.record"),
    ("POST", "/cases/{case_id}/evidence"): ("case", "evidence.attach"),
    ("POST", "/cases/{case_id}/grants"): ("case", "case.grant"),
    ("GET", "/audit"): ("global", "audit.verify"),
    ("GET", "/admin"): ("auth",),  # lists what the caller may see
    ("POST", "/admin"): ("auth",),  # the form below issues a token for oneself
    ("GET", "/static"): ("public",),
}


def route_table(app: Any) -> set[tuple[str, str]]:
    """Every (method, path) the app serves, included routers flattened."""
    out: set[tuple[str, str]] = set()
    for rc in iter_route_contexts(app.routes):
        if isinstance(rc.original_route, Mount):
            out.add(("GET", str(rc.path)))
            continue
        assert rc.methods, f"route {rc.path} has no methods"
        for m in rc.methods:
            if m != "HEAD":
                out.add((m, str(rc.path)))
    return out


@dataclass
class World:
    app: Any
    client: TestClient
    reg: Registry
    admin: Actor
    orgs: dict[str, str]  # relation -> org id
    actors: dict[tuple[str, str], Actor] = field(default_factory=dict)  # (role, relation)
    tokens: dict[tuple[str, str], str] = field(default_factory=dict)
    sessions: dict[tuple[str, str], str] = field(default_factory=dict)  # signed cookie
    target_users: dict[str, str] = field(default_factory=dict)  # org relation -> user id
    record: dict[str, Any] = field(default_factory=dict)  # a real reconciliation record

    def new_case(self, embargoed: bool) -> str:
        rep = self.actors[("reporter", "reporting")]
        until = datetime.now(UTC) + timedelta(days=30) if embargoed else None
        case = self.reg.report_case(
            rep,
            title="Matrix case",
            owning_org_id=self.orgs["owning"],
            payload=CANARY,
            embargo_until=until,
        )
        owner = self.actors[("assessor", "owning")]
        self.reg.grant_access(owner, case.id, self.orgs["granted"], payload=False)
        return case.id


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    db = Path(tmp_path_factory.mktemp("authz")) / "r.db"
    url = f"sqlite:///{db}"
    eng = make_engine(url)
    upgrade(eng)
    key = secrets.token_bytes(32)
    reg = Registry(eng, Keyring.from_keys(key))
    admin, _ = reg.bootstrap("Operators", "root")
    orgs = {rel: reg.create_org(admin, f"Org {rel}", kind="lab").id for rel in RELATIONS}
    app = create_app(Settings(db_url=url, payload_keys=(key,), rate_burst=100_000))
    client = TestClient(app)
    w = World(app, client, reg, admin, orgs)
    store = app.state.sessions
    for role, rel in product(ROLES[1:], RELATIONS):
        u = reg.create_user(admin, orgs[rel], f"{role}-{rel}", role)
        actor = Registry.actor_of(u)
        w.actors[(role, rel)] = actor
        w.tokens[(role, rel)] = reg.issue_token(admin, u.id).token.get_secret_value()
        w.sessions[(role, rel)] = store.sign(reg.create_session(actor).token.get_secret_value())
    # Matrix actors of identity routes sit in orgs["other"]: one target shares it.
    w.target_users = {
        "same_org": reg.create_user(admin, orgs["other"], "target-same", "reporter").id,
        "other": reg.create_user(admin, orgs["owning"], "target-other", "reporter").id,
    }
    w.record = _reconciliation(w)
    yield w
    client.close()
    eng.dispose()


def _reconciliation(w: World) -> dict[str, Any]:
    """The owning lab's and the granted organisation's assessments, reconciled."""
    from jbgrade.assess import PolicyDecider, dispute, sides_from_registry

    case_id = w.new_case(False)
    w.reg.add_assessment(w.actors[("assessor", "owning")], case_id, VECTOR)
    w.reg.add_assessment(w.actors[("assessor", "granted")], case_id, VECTOR.replace("UN:D", "UN:N"))
    a, b = sides_from_registry(w.reg, w.actors[("assessor", "owning")], case_id)
    return dispute(a, b, PolicyDecider(["lab-frontier"])).model_dump(mode="json")


def _relations(kind: str, rel: str) -> set[str]:
    return {"any"} if kind == "global" else {rel}


def expected(spec: tuple[str, ...], role: str, rel: str, embargoed: bool) -> str:
    """'ok', 'denied', 'not_found' or 'anon' (no credentials)."""
    kind = spec[0]
    if kind == "public":
        return "ok"
    if role == "anonymous":
        return "anon"
    if kind == "auth":
        return "ok"
    perms = permissions()
    if kind == "global":
        return "ok" if perms.allowed(spec[1], role, {"any"}) else "denied"
    if kind == "org":
        return "ok" if perms.allowed(spec[1], role, {rel}) else "denied"
    if kind == "user":
        # Users one may not even read are not confirmed to exist either.
        if perms.allowed(spec[1], role, {rel}):
            return "ok"
        return "denied" if perms.allowed("user.read", role, {rel}) else "not_found"
    return perms.outcome(spec[1], role, {rel}, embargoed=embargoed)


def _request(w: World, method: str, path: str, embargoed: bool, role: str, rel: str) -> Any:
    """Build and send a valid request for the route as the given caller."""
    case_id = w.new_case(embargoed) if "{case_id}" in path else ""
    org_rel = rel if rel in ORG_RELATIONS else "other"
    other_user = w.target_users[org_rel]
    if rel == "same_org":
        rel = "other"  # identity routes: the actor in orgs["other"]
    tok = w.reg.issue_token(w.admin, other_user).id if "{token_id}" in path else ""
    dec = (
        w.reg.decide(w.actors[("assessor", "owning")], case_id, "lab-frontier", vector=VECTOR).id
        if "{decision_id}" in path
        else ""
    )
    url = (
        path.replace("{case_id}", case_id)
        .replace("{org_id}", w.orgs["granted"])
        .replace("{user_id}", other_user)
        .replace("{token_id}", tok)
        .replace("{decision_id}", dec)
        .replace("{slug}", "not-found")
    )
    if path == "/static":
        url = "/static/app.css"
    api = path.startswith("/api/")
    headers: dict[str, str] = {}
    cookies: dict[str, str] = {}
    form_extra: dict[str, str] = {}
    if role != "anonymous":
        if api:
            headers["authorization"] = f"Bearer {w.tokens[(role, rel)]}"
        else:
            csrf = w.app.state.sessions.new_csrf_cookie()
            cookies = {"jbg_session": w.sessions[(role, rel)], "jbg_csrf": csrf}
            form_extra["csrf_token"] = w.app.state.sessions.csrf_token_for(csrf)
    if path == "/login":
        csrf = w.app.state.sessions.new_csrf_cookie()
        cookies["jbg_csrf"] = csrf
        form_extra["csrf_token"] = w.app.state.sessions.csrf_token_for(csrf)
    bodies: dict[tuple[str, str], Any] = {
        ("POST", "/api/v1/grade"): {"vector": VECTOR},
        ("POST", "/api/v1/decide"): {"vector": VECTOR, "profile": "lab-frontier"},
        ("POST", "/api/v1/orgs"): {"name": f"New org {secrets.token_hex(4)}"},
        ("POST", "/api/v1/users"): {
            "org_id": w.orgs["other" if org_rel == "same_org" else "owning"],
            "username": f"u-{secrets.token_hex(4)}",
            "role": "reporter",
        },
        ("POST", "/api/v1/users/{user_id}/password"): {"password": "a long enough password"},
        ("POST", "/api/v1/users/{user_id}/role"): {"role": "assessor"},
        ("POST", "/api/v1/users/{user_id}/active"): {"active": True},
        ("POST", "/api/v1/tokens"): {"name": "matrix"},
        ("POST", "/api/v1/cases"): {"title": "Reported in the matrix"},
        ("POST", "/api/v1/cases/{case_id}/transitions"): {"to": "triaged"},
        ("POST", "/api/v1/cases/{case_id}/grants"): {"org_id": w.orgs["other"]},
        ("POST", "/api/v1/cases/{case_id}/assessments"): {"vector": VECTOR},
        ("POST", "/api/v1/cases/{case_id}/evidence"): {"evidence": EVIDENCE},
        ("POST", "/api/v1/cases/{case_id}/decisions"): {
            "profile": "lab-frontier",
            "vector": VECTOR,
        },
        ("POST", "/api/v1/cases/{case_id}/reconciliations"): w.record | {"case_id": case_id},
    }
    forms: dict[tuple[str, str], dict[str, str]] = {
        ("POST", "/login"): {"username": "nobody", "password": "wrong password!"},
        ("POST", "/cases"): {"title": "Reported by form"},
        ("POST", "/cases/{case_id}/transitions"): {"to": "triaged"},
        ("POST", "/cases/{case_id}/assessments"): {"vector": VECTOR},
        ("POST", "/cases/{case_id}/decisions"): {"profile": "lab-frontier"},
        ("POST", "/cases/{case_id}/evidence"): {"evidence_json": json.dumps(EVIDENCE)},
        ("POST", "/cases/{case_id}/grants"): {"org_id": w.orgs["other"]},
        ("POST", "/admin"): {"op": "token", "name": "matrix"},
    }
    if ("POST", path) == ("POST", "/cases/{case_id}/decisions") and role != "anonymous":
        # Deciding by form needs an assessment on the case to decide on.
        w.reg.add_assessment(w.actors[("assessor", "owning")], case_id, VECTOR)
    kw: dict[str, Any] = {"headers": headers, "follow_redirects": False}
    if (method, path) in bodies:
        kw["json"] = bodies[(method, path)]
    elif method == "POST" and not api:
        kw["data"] = {**forms.get((method, path), {}), **form_extra}
    _use_cookies(w.client, cookies)
    return w.client.request(method, url, **kw)


def _use_cookies(client: TestClient, cookies: dict[str, str]) -> None:
    client.cookies.clear()
    for k, v in cookies.items():
        client.cookies.set(k, v)


def _check(outcome: str, method: str, path: str, resp: Any, *, reveals: bool = False) -> None:
    code = resp.status_code
    api = path.startswith("/api/")
    if outcome == "ok":
        if path == "/login" and method == "POST":
            # A wrong password: the login form answers again (HTML), it is not a refusal.
            assert code == 401 and resp.headers["content-type"].startswith("text/html")
            return
        if path == "/logout":
            assert code == 303 and resp.headers["location"] == "/login"
        else:
            assert code in (200, 201, 204, 303), resp.text[:300]
            if code == 303:
                assert "/login" not in resp.headers["location"]
    elif outcome == "anon":
        if method == "GET" and not api:
            assert code == 303 and resp.headers["location"].startswith("/login?next=")
        else:
            assert code == 401, resp.text[:300]
            assert resp.headers["content-type"] == "application/problem+json"
    elif outcome == "denied":
        assert code == 403, resp.text[:300]
    else:
        assert code == 404, resp.text[:300]
    if code >= 400:
        assert resp.headers["content-type"] == "application/problem+json"
    # The payload shows only where the route reveals it and the caller may read it.
    assert (CANARY in resp.text) == (reveals and outcome == "ok")


def test_every_route_has_an_expectation(world: World) -> None:
    routes = route_table(world.app)
    missing = sorted(routes - set(EXPECT))
    stale = sorted(set(EXPECT) - routes)
    assert not missing, f"routes without an authorization expectation: {missing}"
    assert not stale, f"expectations for routes that no longer exist: {stale}"


CELLS = [
    (m, p, role, rel, emb)
    for (m, p) in sorted(EXPECT)
    for role in ROLES
    for rel in (
        RELATIONS
        if EXPECT[(m, p)][0] == "case"
        else ORG_RELATIONS
        if EXPECT[(m, p)][0] in ("user", "org")
        else ("other",)
    )
    for emb in (EMBARGO if EXPECT[(m, p)][0] == "case" else (False,))
]


@pytest.mark.parametrize("method,path", sorted(EXPECT), ids=[f"{m} {p}" for m, p in sorted(EXPECT)])
def test_matrix(world: World, method: str, path: str) -> None:
    """All roles x relations x embargo states for one route (one test per route)."""
    spec = EXPECT[(method, path)]
    failures = []
    for m, p, role, rel, emb in CELLS:
        if (m, p) != (method, path):
            continue
        want = expected(spec, role, rel, emb)
        resp = _request(world, method, path, emb, role, rel)
        try:
            _check(want, method, path, resp, reveals=spec == ("case", "case.read_payload"))
        except AssertionError as exc:
            failures.append(
                f"{role}/{rel}/embargo={emb}: want {want}, got {resp.status_code}: {exc}"
            )
    assert not failures, "\n".join(failures)


def test_payload_only_for_entitled(world: World) -> None:
    """The canary comes back only to roles the table entitles to read payloads."""
    perms = permissions()
    for role, rel in product(ROLES[1:], RELATIONS):
        case_id = world.new_case(False)
        world.client.cookies.clear()
        r = world.client.get(
            f"/api/v1/cases/{case_id}",
            params={"include_payload": "true"},
            headers={"authorization": f"Bearer {world.tokens[(role, rel)]}"},
        )
        may = perms.allowed("case.read_payload", role, {rel})
        assert (CANARY in r.text) == may, (role, rel, r.status_code)
        assert (r.status_code == 200) == may or r.status_code in (403, 404)


def test_csrf_required_for_session_writes(world: World) -> None:
    case_id = world.new_case(False)
    cookie = world.sessions[("assessor", "owning")]
    csrf = world.app.state.sessions.new_csrf_cookie()
    for url, data in (
        (f"/cases/{case_id}/transitions", {"to": "triaged"}),
        (f"/api/v1/cases/{case_id}/transitions", None),
    ):
        _use_cookies(world.client, {"jbg_session": cookie, "jbg_csrf": csrf})
        kw: dict[str, Any] = {}
        if data is None:
            kw["json"] = {"to": "triaged"}
        else:
            kw["data"] = {**data, "csrf_token": "forged"}
        r = world.client.post(url, follow_redirects=False, **kw)
        assert r.status_code == 403 and r.json()["type"].endswith("/csrf-failed"), r.text
    # With the token in the header (as htmx sends it), the API accepts the session.
    _use_cookies(world.client, {"jbg_session": cookie, "jbg_csrf": csrf})
    r = world.client.post(
        f"/api/v1/cases/{case_id}/transitions",
        json={"to": "triaged"},
        headers={"x-csrf-token": world.app.state.sessions.csrf_token_for(csrf)},
    )
    assert r.status_code == 200, r.text
    # A forged session cookie is anonymous.
    _use_cookies(world.client, {"jbg_session": cookie[:-3] + "xyz"})
    r = world.client.get("/api/v1/me")
    assert r.status_code == 401
