"""Login, case list, case page and the forms that change a case.

Handlers are async (forms are parsed asynchronously) and call the synchronous
registry in the thread pool. Every form post is CSRF-checked; every value a
user typed reaches the page through Jinja2's autoescaping.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from jbgrade._errors import (
    AuthenticationError,
    InputError,
    JbgradeError,
    NotFoundError,
    PermissionDeniedError,
)
from jbgrade.api import (
    Problem,
    TokenBuckets,
    decide_on_case,
    get_registry,
    require_csrf,
    resolve_caller,
)
from jbgrade.api._sessions import CSRF_COOKIE, CSRF_FIELD, SESSION_COOKIE
from jbgrade.assess import Reconciliation
from jbgrade.evidence import Evidence as EvidenceRecord
from jbgrade.policy import DUE_SOON_DAYS, list_profiles, load_profile
from jbgrade.registry import (
    ROLES,
    STATES,
    Actor,
    ReconciliationView,
    Registry,
    lifecycle,
    permissions,
)
from jbgrade.rubric import SEVERITIES, default_tables
from jbgrade.web._calculator import metric_rows
from jbgrade.web._charts import DOMAIN_NAMES, domain_bars, domain_chart_svg
from jbgrade.web._compare import compare
from jbgrade.web._templating import Renderer

__all__ = ["pages_router"]

T = TypeVar("T")


def _safe_next(target: str | None) -> str:
    """Only local paths: never an open redirect to another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/cases"
    return target


def _split_list(text: str) -> list[str]:
    return [p.strip() for p in text.replace("\n", ",").split(",") if p.strip()]


class _Ctx:
    """Per-request helpers: the actor, CSRF-checked forms, registry calls off the loop."""

    def __init__(self, request: Request, renderer: Renderer):
        self.request = request
        self.renderer = renderer

    async def actor(self) -> Actor | None:
        caller = await run_in_threadpool(resolve_caller, self.request)
        return caller.actor

    async def form(self) -> FormData:
        form = await self.request.form()
        caller = await run_in_threadpool(resolve_caller, self.request)
        token = form.get(CSRF_FIELD)
        require_csrf(self.request, caller, token if isinstance(token, str) else None)
        return form

    async def poster(self) -> tuple[Actor, FormData]:
        """The actor of a form post (401 problem when not logged in) and its checked form."""
        actor = await self.actor()
        if actor is None:
            raise _anon_post()
        return actor, await self.form()

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await run_in_threadpool(fn, *args, **kwargs)

    def render(self, template: str, context: dict[str, Any], status: int = 200) -> Response:
        return self.renderer.render(self.request, template, context, status=status)


def _login_redirect(request: Request) -> Response:
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse("/login?" + urlencode({"next": path}), status_code=303)


def _anon_post() -> Problem:
    return Problem("unauthenticated", "log in first", headers={"WWW-Authenticate": "Bearer"})


def _text(form: FormData, name: str, default: str = "") -> str:
    v = form.get(name)
    return v.strip() if isinstance(v, str) else default


def pages_router(renderer: Renderer) -> APIRouter:
    r = APIRouter(include_in_schema=False)
    login_buckets = TokenBuckets(rate=0.2, burst=10)  # 10 tries, then one per 5 s per client

    # -- login --------------------------------------------------------------------------
    @r.get("/login")
    async def login_page(request: Request, next: str | None = None) -> Response:
        get_registry(request)
        return _Ctx(request, renderer).render(
            "login.html", {"next": _safe_next(next), "error": None, "username": ""}
        )

    @r.post("/login")
    async def login(request: Request) -> Response:
        reg = get_registry(request)
        ctx = _Ctx(request, renderer)
        form = await request.form()
        store = request.app.state.sessions
        token = form.get(CSRF_FIELD)
        if not store.verify_csrf(
            request.cookies.get(CSRF_COOKIE), token if isinstance(token, str) else None
        ):
            raise Problem("csrf-failed", "the login form expired; reload the page and try again")
        client = request.client.host if request.client else "unknown"
        wait = login_buckets.take(client)
        if wait > 0:
            raise Problem(
                "rate-limited",
                f"too many login attempts; retry in {int(wait) + 1} s",
                headers={"Retry-After": str(int(wait) + 1)},
            )
        username = _text(form, "username")
        password = form.get("password")
        nxt = _safe_next(_text(form, "next"))
        try:
            actor = await ctx.call(
                reg.authenticate_password, username, password if isinstance(password, str) else ""
            )
        except AuthenticationError:
            return ctx.render(
                "login.html",
                {"next": nxt, "error": "Wrong username or password.", "username": username},
                status=401,
            )
        settings = request.app.state.settings
        issued = await ctx.call(
            reg.create_session, actor, ttl=dt.timedelta(seconds=settings.session_ttl_s)
        )
        resp = RedirectResponse(nxt, status_code=303)
        resp.set_cookie(
            SESSION_COOKIE,
            store.sign(issued.token.get_secret_value()),
            max_age=settings.session_ttl_s,
            httponly=True,
            samesite="lax",
            secure=settings.secure_cookies,
            path="/",
        )
        # A fresh CSRF secret for the new session (no fixation across login).
        resp.set_cookie(
            CSRF_COOKIE,
            store.new_csrf_cookie(),
            httponly=True,
            samesite="lax",
            secure=settings.secure_cookies,
            path="/",
        )
        return resp

    @r.post("/logout")
    async def logout(request: Request) -> Response:
        ctx = _Ctx(request, renderer)
        await ctx.form()
        caller = await run_in_threadpool(resolve_caller, request)
        if caller.session_token is not None:
            await ctx.call(get_registry(request).end_session, caller.session_token)
        resp = RedirectResponse("/login", status_code=303)
        resp.delete_cookie(SESSION_COOKIE, path="/")
        return resp

    # -- case list ------------------------------------------------------------------------
    @r.get("/cases")
    async def cases(request: Request) -> Response:
        reg = get_registry(request)
        ctx = _Ctx(request, renderer)
        actor = await ctx.actor()
        if actor is None:
            return _login_redirect(request)
        qp = request.query_params
        filters = {
            "state": qp.get("state") or None,
            "severity": qp.get("severity") or None,
            "organization": qp.get("organization") or None,
            "domain": qp.get("domain") or None,
            "q": (qp.get("q") or "").strip()[:200] or None,
        }
        cursor = qp.get("cursor") or None
        # An exact count costs a scan of every visible case: only on request.
        want_total = qp.get("count") == "1"
        settings = request.app.state.settings
        error = None
        try:
            page = await ctx.call(
                reg.list_cases,
                actor,
                state=filters["state"],
                severity=filters["severity"],
                organization=filters["organization"],
                domain=filters["domain"],
                text=filters["q"],
                limit=settings.page_size,
                cursor=cursor,
                with_total=want_total,
            )
        except InputError as exc:
            error = str(exc)
            page = await ctx.call(reg.list_cases, actor, limit=settings.page_size, with_total=True)
        orgs = await ctx.call(reg.list_orgs, actor)
        active = {k: v for k, v in filters.items() if v}
        next_url = (
            "/cases?" + urlencode({**active, "cursor": page.next_cursor})
            if page.next_cursor
            else None
        )
        first_url = "/cases?" + urlencode(active) if cursor else None
        count_url = None if want_total else "/cases?" + urlencode({**active, "count": "1"})
        return ctx.render(
            "cases.html",
            {
                "page": page,
                "filters": filters,
                "states": STATES,
                "severities": SEVERITIES,
                "domains": DOMAIN_NAMES,
                "orgs": orgs,
                "next_url": next_url,
                "first_url": first_url,
                "count_url": count_url,
                "error": error,
                "can_report": permissions().allowed("case.report", actor.role, {"any"}),
            },
            status=422 if error else 200,
        )

    # -- report a case ------------------------------------------------------------------
    @r.get("/cases/new")
    async def new_case_form(request: Request) -> Response:
        reg = get_registry(request)
        ctx = _Ctx(request, renderer)
        actor = await ctx.actor()
        if actor is None:
            return _login_redirect(request)
        orgs = await ctx.call(reg.list_orgs, actor)
        return ctx.render("case_new.html", {"orgs": orgs, "error": None, "values": {}})

    @r.post("/cases")
    async def report_case(request: Request) -> Response:
        reg = get_registry(request)
        ctx = _Ctx(request, renderer)
        actor, form = await ctx.poster()
        embargo = _text(form, "embargo_until")
        try:
            until = (
                dt.datetime.combine(dt.date.fromisoformat(embargo), dt.time(0, 0), dt.UTC)
                if embargo
                else None
            )
            case = await ctx.call(
                reg.report_case,
                actor,
                title=_text(form, "title"),
                summary=_text(form, "summary"),
                owning_org_id=_text(form, "owning_org_id") or None,
                affected_models=_split_list(_text(form, "affected_models")),
                affected_vendors=_split_list(_text(form, "affected_vendors")),
                affected_deployments=_split_list(_text(form, "affected_deployments")),
                attack_description=_text(form, "attack_description"),
                payload=_text(form, "payload") or None,
                embargo_until=until,
            )
        except (JbgradeError, ValueError) as exc:
            orgs = await ctx.call(reg.list_orgs, actor)
            values = {k: v for k, v in form.items() if k not in ("payload", CSRF_FIELD)}
            return ctx.render(
                "case_new.html", {"orgs": orgs, "error": str(exc), "values": values}, status=422
            )
        return RedirectResponse(f"/cases/{case.id}", status_code=303)

    # -- one case -------------------------------------------------------------------------
    async def _case_page(
        request: Request,
        case_id: str,
        *,
        error: str | None = None,
        status: int = 200,
        reveal: bool = False,
    ) -> Response:
        reg = get_registry(request)
        ctx = _Ctx(request, renderer)
        actor = await ctx.actor()
        if actor is None:
            return _login_redirect(request)
        model = await ctx.call(_case_model, reg, actor, case_id, reveal)
        model["error"] = error
        return ctx.render("case.html", model, status=status)

    @r.get("/cases/{case_id}")
    async def case_page(request: Request, case_id: str) -> Response:
        return await _case_page(request, case_id)

    @r.post("/cases/{case_id}/payload")
    async def reveal_payload(request: Request, case_id: str) -> Response:
        await _Ctx(request, renderer).poster()
        return await _case_page(request, case_id, reveal=True)

    async def _case_action(
        request: Request, case_id: str, action: Callable[[Registry, Actor, FormData], Any]
    ) -> Response:
        reg = get_registry(request)
        ctx = _Ctx(request, renderer)
        actor, form = await ctx.poster()
        try:
            await ctx.call(action, reg, actor, form)
        except (NotFoundError, PermissionDeniedError):
            raise
        except (JbgradeError, ValueError) as exc:
            # Show the case again with the reason (bad vector, forbidden transition, ...).
            return await _case_page(request, case_id, error=str(exc), status=422)
        return RedirectResponse(f"/cases/{case_id}", status_code=303)

    @r.post("/cases/{case_id}/transitions")
    async def transition(request: Request, case_id: str) -> Response:
        def act(reg: Registry, actor: Actor, form: FormData) -> Any:
            return reg.transition(actor, case_id, _text(form, "to"), note=_text(form, "note"))

        return await _case_action(request, case_id, act)

    @r.post("/cases/{case_id}/assessments")
    async def add_assessment(request: Request, case_id: str) -> Response:
        def act(reg: Registry, actor: Actor, form: FormData) -> Any:
            t = default_tables()
            vector = _text(form, "vector")
            if not vector:
                vector = t.prefix + "/".join(
                    f"{m.key}:{_text(form, m.key) or 'X'}" for m in t.metrics
                )
            rationales = {
                m.key: _text(form, f"why_{m.key}") for m in t.metrics if _text(form, f"why_{m.key}")
            }
            return reg.add_assessment(
                actor,
                case_id,
                vector,
                rationales=rationales,
                evidence_refs=_split_list(_text(form, "evidence_refs")),
                note=_text(form, "note"),
            )

        return await _case_action(request, case_id, act)

    @r.post("/cases/{case_id}/decisions")
    async def record_decision(request: Request, case_id: str) -> Response:
        def act(reg: Registry, actor: Actor, form: FormData) -> Any:
            aware = _text(form, "aware_on")
            raw_ctx = _text(form, "context")
            try:
                context = json.loads(raw_ctx) if raw_ctx else {}
            except ValueError:
                raise InputError("context must be a JSON object", field="context") from None
            if not isinstance(context, dict):
                raise InputError("context must be a JSON object", field="context")
            return decide_on_case(
                reg,
                actor,
                case_id,
                profile=_text(form, "profile"),
                assessment_id=_text(form, "assessment_id") or None,
                context=context,
                aware_on=dt.date.fromisoformat(aware) if aware else None,
            )

        return await _case_action(request, case_id, act)

    @r.post("/cases/{case_id}/evidence")
    async def attach_evidence(request: Request, case_id: str) -> Response:
        def act(reg: Registry, actor: Actor, form: FormData) -> Any:
            upload = form.get("file")
            text = _text(form, "evidence_json")
            if upload is not None and not isinstance(upload, str):
                text = upload.file.read().decode("utf-8", errors="replace") or text
            try:
                body = json.loads(text)
            except ValueError:
                raise InputError("evidence must be a JSON file", field="file") from None
            return reg.attach_evidence(actor, case_id, body, label=_text(form, "label"))

        return await _case_action(request, case_id, act)

    @r.post("/cases/{case_id}/grants")
    async def grant(request: Request, case_id: str) -> Response:
        def act(reg: Registry, actor: Actor, form: FormData) -> Any:
            return reg.grant_access(
                actor, case_id, _text(form, "org_id"), payload=_text(form, "payload") == "on"
            )

        return await _case_action(request, case_id, act)

    # -- audit ----------------------------------------------------------------------------
    @r.get("/audit")
    async def audit(request: Request) -> Response:
        reg = get_registry(request)
        ctx = _Ctx(request, renderer)
        actor = await ctx.actor()
        if actor is None:
            return _login_redirect(request)
        report = await ctx.call(reg.verify_audit, actor)
        return ctx.render("audit.html", {"report": report})

    return r


def _reconciliation_row(v: ReconciliationView) -> dict[str, Any]:
    """A stored reconciliation in brief: what still divides the parties, what does not."""
    rec = Reconciliation.model_validate(v.record)
    decisive = [
        {"item": d.item, "name": d.name, "a": d.a.value, "b": d.b.value}
        for d in rec.differences
        if any(e.changes_action for e in d.effects)
    ]
    return {
        "view": v,
        "parties": [f"{p.organisation} ({p.label})" for p in rec.parties],
        "decisive": decisive,
        "stop_arguing": list(rec.unchanged),
    }


def _case_model(reg: Registry, actor: Actor, case_id: str, reveal: bool) -> dict[str, Any]:
    """Everything the case page shows (runs in the thread pool)."""
    case = reg.get_case(actor, case_id, include_payload=reveal)
    # Every version once; the current ones are those marked current (same order).
    history = reg.list_assessments(actor, case_id, history=True)
    assessments = [a for a in history if a.current]
    decisions = reg.list_decisions(actor, case_id)
    evidence = reg.list_evidence(actor, case_id)
    trail = reg.audit_trail(actor, case_id)
    orgs = reg.list_orgs(actor)
    profiles = [load_profile(n) for n in list_profiles()]
    # Clocks run from the day the case was reported unless a decision names another day
    # (Registry.decide's default), so the comparison and the decision form use it too.
    reported_on = case.created_at.date()
    comparison = (
        compare([a.vector for a in assessments], profiles, aware_on=reported_on)
        if len(assessments) > 1
        else None
    )
    perms = permissions()
    rels = set(case.relations)

    def may(action: str) -> bool:
        return perms.allowed(action, actor.role, rels, embargoed=case.embargoed)

    charts = []
    for i, ev in enumerate(evidence):
        # The registry validated the body as an Evidence record when it was attached.
        record = EvidenceRecord.model_validate(ev.body)
        bars = domain_bars(record)
        if bars:
            charts.append(
                {
                    "evidence": ev,
                    "confidence": record.confidence,
                    "bars": bars,
                    "svg": domain_chart_svg(
                        bars,
                        title=f"Success rate per domain with intervals: {ev.label or ev.id}",
                        chart_id=f"ev{i}",
                    ),
                }
            )
    lc = lifecycle()
    today = dt.datetime.now(dt.UTC).date()
    return {
        # Obligations due before today are overdue, within a week due soon (ISO strings).
        "today": today.isoformat(),
        "due_soon": (today + dt.timedelta(days=DUE_SOON_DAYS)).isoformat(),
        "case": case,
        "assessments": assessments,
        "superseded": [a for a in history if not a.current],
        "decisions": [d for d in decisions if d.current],
        "old_decisions": [d for d in decisions if not d.current],
        "evidence": evidence,
        "charts": charts,
        "trail": trail,
        "comparison": comparison,
        "profiles": profiles,
        "orgs": [o for o in orgs if o.id not in (case.reporting_org_id, case.owning_org_id)],
        "org_names": {o.id: o.name for o in orgs},
        "states": lc.states,
        "transitions": [lc.find(case.state, t) for t in case.allowed_transitions],
        "criteria_rows": metric_rows(),
        "metric_keys": [m.key for m in default_tables().metrics],
        "may": {
            a: may(a)
            for a in (
                "assessment.add",
                "decision.record",
                "evidence.attach",
                "case.grant",
                "case.transition",
                "case.read_payload",
                "reconciliation.read",
            )
        },
        "payload": case.payload.get_secret_value() if reveal and case.payload else None,
        "reconciliations": (
            [_reconciliation_row(x) for x in reg.list_reconciliations(actor, case_id)]
            if may("reconciliation.read")
            else []
        ),
        "reported_on": reported_on.isoformat(),
        "roles": ROLES,
    }
