"""Stateless endpoints: grade a vector, describe problem types, health."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from jbgrade import __version__
from jbgrade.api._problems import PROBLEM_TYPES, Problem, ProblemType, problem_type_uri
from jbgrade.api._respond import json_response
from jbgrade.rubric import grade

__all__ = ["GradeRequest", "grade_schema", "stateless_router"]

_EXAMPLE = "JBG:1.0/LY:F/UN:U/RL:H/TR:M/HD:C/UP:F/AG:A/AC:L/AU:Y/EX:O/ST:A"


class GradeRequest(BaseModel):
    """Body of ``POST /api/v1/grade``."""

    model_config = ConfigDict(extra="forbid")

    vector: str = Field(
        description="A JBG 1.0 vector in canonical order; any metric may be X (not assessed).",
        max_length=256,
        examples=[_EXAMPLE],
    )


def grade_schema() -> dict[str, Any]:
    """The published JSON Schema of a grade (shipped by the rubric)."""
    text = resources.files("jbgrade.rubric").joinpath("data/grade.schema.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def _describe(t: ProblemType) -> dict[str, Any]:
    return {
        "type": problem_type_uri(t.slug),
        "status": t.status,
        "title": t.title,
        "description": t.description,
    }


def stateless_router() -> APIRouter:
    router = APIRouter(prefix="/api/v1")

    @router.get("/health", tags=["meta"], summary="Liveness and version")
    async def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__, "standard": "JBG 1.0"}

    @router.post(
        "/grade",
        tags=["grading"],
        summary="Grade a JBG vector",
        response_class=Response,
        responses={
            200: {
                "description": "The grade, as `Grade.to_dict()` and `jbgrade score --json`.",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Grade"}}},
            },
            422: {"description": "Invalid vector (problem document)."},
        },
    )
    async def grade_endpoint(body: GradeRequest) -> Response:
        return json_response(grade(body.vector).to_dict())

    @router.get("/problems", tags=["meta"], summary="All problem types this API returns")
    async def problem_types() -> list[dict[str, Any]]:
        return [_describe(t) for t in PROBLEM_TYPES.values()]

    @router.get("/problems/{slug}", tags=["meta"], summary="Describe one problem type")
    async def problem_type(slug: str) -> dict[str, Any]:
        t = PROBLEM_TYPES.get(slug)
        if t is None:
            raise Problem("not-found", f"no problem type {slug!r}")
        return _describe(t)

    return router
