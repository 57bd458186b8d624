"""Registry routes for identity: the caller, organisations, users and API tokens."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from starlette.responses import Response

from jbgrade.api._auth import get_registry
from jbgrade.api._registry_common import ActorDep, json_out, view_json
from jbgrade.api._responses import OrgList, TokenOut, UserList
from jbgrade.api._schemas import ActiveIn, OrgIn, PasswordIn, RoleIn, TokenIn, UserIn
from jbgrade.registry import Actor, OrgView, UserView

__all__ = ["identity_router"]


def _org_router() -> APIRouter:
    """``/me`` and ``/orgs``."""
    r = APIRouter()

    @r.get("/me", tags=["identity"], response_model=Actor, summary="Who the credentials belong to")
    def me(actor: ActorDep) -> Response:
        return json_out(actor)

    @r.get("/orgs", tags=["identity"], response_model=OrgList, summary="List organisations")
    def list_orgs(request: Request, actor: ActorDep) -> Response:
        return json_out({"items": get_registry(request).list_orgs(actor)})

    @r.post(
        "/orgs",
        tags=["identity"],
        response_model=OrgView,
        status_code=201,
        summary="Create an organisation",
    )
    def create_org(request: Request, actor: ActorDep, body: OrgIn) -> Response:
        org = get_registry(request).create_org(actor, body.name, kind=body.kind)
        return json_out(org, 201, {"Location": f"/api/v1/orgs/{org.id}"})

    @r.get("/orgs/{org_id}", tags=["identity"], response_model=OrgView, summary="One organisation")
    def get_org(request: Request, actor: ActorDep, org_id: str) -> Response:
        return json_out(get_registry(request).get_org(actor, org_id))

    return r


def _user_router() -> APIRouter:
    """``/users``: list, create, read, password, role, active."""
    r = APIRouter()

    @r.get(
        "/users",
        tags=["identity"],
        response_model=UserList,
        summary="List users (admins: own organisation)",
    )
    def list_users(request: Request, actor: ActorDep, org_id: str | None = None) -> Response:
        return json_out({"items": get_registry(request).list_users(actor, org_id=org_id)})

    @r.post(
        "/users",
        tags=["identity"],
        response_model=UserView,
        status_code=201,
        summary="Create a user (admins: own org)",
    )
    def create_user(request: Request, actor: ActorDep, body: UserIn) -> Response:
        user = get_registry(request).create_user(
            actor,
            body.org_id,
            body.username,
            body.role,
            display_name=body.display_name,
            password=body.password,
        )
        return json_out(user, 201, {"Location": f"/api/v1/users/{user.id}"})

    @r.get("/users/{user_id}", tags=["identity"], response_model=UserView, summary="One user")
    def get_user(request: Request, actor: ActorDep, user_id: str) -> Response:
        return json_out(get_registry(request).get_user(actor, user_id))

    @r.post(
        "/users/{user_id}/password", tags=["identity"], status_code=204, summary="Set a password"
    )
    def set_password(request: Request, actor: ActorDep, user_id: str, body: PasswordIn) -> Response:
        get_registry(request).set_password(actor, user_id, body.password)
        return Response(status_code=204)

    @r.post(
        "/users/{user_id}/role",
        tags=["identity"],
        response_model=UserView,
        summary="Change a user's role",
    )
    def set_role(request: Request, actor: ActorDep, user_id: str, body: RoleIn) -> Response:
        return json_out(get_registry(request).set_role(actor, user_id, body.role))

    @r.post(
        "/users/{user_id}/active",
        tags=["identity"],
        response_model=UserView,
        summary="Deactivate or reactivate a user",
    )
    def set_active(request: Request, actor: ActorDep, user_id: str, body: ActiveIn) -> Response:
        return json_out(get_registry(request).set_user_active(actor, user_id, body.active))

    return r


def _token_router() -> APIRouter:
    """``/tokens``: issue and revoke."""
    r = APIRouter()

    @r.post(
        "/tokens",
        tags=["identity"],
        response_model=TokenOut,
        status_code=201,
        summary="Issue an API token",
    )
    def issue_token(request: Request, actor: ActorDep, body: TokenIn) -> Response:
        tok = get_registry(request).issue_token(
            actor,
            body.user_id,
            name=body.name,
            expires_in=timedelta(days=body.expires_in_days) if body.expires_in_days else None,
        )
        out = view_json(tok)
        out["token"] = tok.token.get_secret_value()  # shown this once; stored hashed
        return json_out(out, 201)

    @r.delete("/tokens/{token_id}", tags=["identity"], status_code=204, summary="Revoke a token")
    def revoke_token(request: Request, actor: ActorDep, token_id: str) -> Response:
        get_registry(request).revoke_token(actor, token_id)
        return Response(status_code=204)

    return r


def identity_router() -> APIRouter:
    """``/me``, ``/orgs``, ``/users`` and ``/tokens`` (tag ``identity``), in that order."""
    r = APIRouter()
    for sub in (_org_router(), _user_router(), _token_router()):
        r.include_router(sub)
    return r
