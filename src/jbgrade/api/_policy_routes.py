"""Stateless policy endpoints: decide under a shipped profile, list profiles."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter
from starlette.responses import Response

from jbgrade._errors import UnknownProfileError
from jbgrade.api._respond import json_response
from jbgrade.api._responses import ProfileList
from jbgrade.api._schemas import DecideIn
from jbgrade.policy import Profile, decide, list_profiles, load_profile

__all__ = ["policy_router", "shipped_profile", "today_utc"]


def shipped_profile(name: str) -> Profile:
    """A shipped profile by name. Never a path: ``load_profile`` would read any file."""
    known = list_profiles()
    if name not in known:
        raise UnknownProfileError(f"unknown profile {name!r}; available: {', '.join(known)}")
    return load_profile(name)


def today_utc() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def policy_router() -> APIRouter:
    r = APIRouter(prefix="/api/v1")

    @r.post(
        "/decide",
        tags=["policy"],
        summary="Decide under a policy profile",
        response_class=Response,
        responses={
            200: {
                "description": "The decision: action, obligations (party, what, due), fired_rules, "
                "near_misses, provisional, profile, profile_version, bundle_sha256.",
                "content": {"application/json": {"schema": {"type": "object"}}},
            }
        },
    )
    async def decide_endpoint(body: DecideIn) -> Response:
        prof = shipped_profile(body.profile)
        d = decide(
            body.vector,
            body.context,
            prof,
            aware_on=body.aware_on or today_utc(),
            notified_on=body.notified_on,
            patched_on=body.patched_on,
        )
        return json_response(d.to_dict())

    @r.get(
        "/profiles",
        tags=["policy"],
        summary="The shipped policy profiles",
        response_model=ProfileList,
    )
    async def profiles() -> Response:
        return json_response({"items": [load_profile(n).summary_dict() for n in list_profiles()]})

    return r
