"""The API app factory: one FastAPI app per :class:`Settings`, no module state."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from jbgrade import __version__
from jbgrade.api._guard import GuardMiddleware
from jbgrade.api._policy_routes import policy_router
from jbgrade.api._problems import install_problem_handlers
from jbgrade.api._registry_routes import registry_router
from jbgrade.api._sessions import SessionStore
from jbgrade.api._settings import Settings
from jbgrade.api._stateless import grade_schema, stateless_router
from jbgrade.registry import Keyring, Registry, make_engine

__all__ = ["OPENAPI_URL", "create_app"]

OPENAPI_URL = "/api/v1/openapi.json"

_PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem document (media type application/problem+json).",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "description": "URI reference of the problem type."},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "Validation errors: one per offending field.",
            "items": {
                "type": "object",
                "properties": {
                    "loc": {"type": "string"},
                    "msg": {"type": "string"},
                    "type": {"type": "string"},
                },
            },
        },
    },
    "additionalProperties": True,
}


def _inline_schema(schema: dict[str, Any], name: str, into: dict[str, Any]) -> dict[str, Any]:
    """Move a JSON Schema's ``$defs`` into OpenAPI components, rewriting its refs."""
    schema = copy.deepcopy(schema)
    defs = schema.pop("$defs", {})
    for key in ("$schema", "$id"):
        schema.pop(key, None)

    def fix(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                node["$ref"] = f"#/components/schemas/{name}_{ref.removeprefix('#/$defs/')}"
            for v in node.values():
                fix(v)
        elif isinstance(node, list):
            for v in node:
                fix(v)
        return node

    for key, sub in defs.items():
        into[f"{name}_{key}"] = fix(sub)
    return dict(fix(schema))


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    doc = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
    )
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas["Grade"] = _inline_schema(grade_schema(), "Grade", schemas)
    schemas["Problem"] = _PROBLEM_SCHEMA
    # Every error is a problem document: say so on every operation.
    problem = {"$ref": "#/components/schemas/Problem"}
    for item in doc.get("paths", {}).values():
        for op in item.values():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            for code, resp in list(op["responses"].items()):
                if code.startswith(("4", "5")):
                    resp["content"] = {"application/problem+json": {"schema": problem}}
            op["responses"].setdefault(
                "default",
                {
                    "description": "Error (problem document)",
                    "content": {"application/problem+json": {"schema": problem}},
                },
            )
    app.openapi_schema = doc
    return doc


def _registry(settings: Settings) -> Registry | None:
    """The registry over ``settings.db_url`` (already migrated: ``jbgrade db upgrade``)."""
    if settings.db_url is None:
        return None
    keyring = Keyring.from_keys(*settings.payload_keys) if settings.payload_keys else None
    return Registry(make_engine(settings.db_url), keyring)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    # The registry's engine holds pooled connections: dispose of them when the server stops.
    yield
    registry = getattr(app.state, "registry", None)
    if registry is not None:
        registry.close()


def create_app(settings: Settings) -> FastAPI:
    """The JSON API under ``/api/v1`` (OpenAPI at ``/api/v1/openapi.json``).

    ``jbgrade.web.create_app`` builds on this one and adds the browser UI.
    """
    app = FastAPI(
        lifespan=_lifespan,
        title="jbgrade API",
        version=__version__,
        description=(
            "Grade AI jailbreaks with the JBG 1.0 standard, decide under policy profiles, "
            "and keep a case registry with an audit trail. Errors are RFC 9457 problem "
            "documents."
        ),
        openapi_url=OPENAPI_URL,
        # The interactive docs pages load scripts from a CDN: not served.
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
    )
    app.state.settings = settings
    app.state.sessions = SessionStore(settings.secret_key, settings.session_ttl_s)
    app.state.registry = _registry(settings)
    install_problem_handlers(app)
    app.include_router(stateless_router())
    app.include_router(policy_router())
    app.include_router(registry_router())
    app.add_middleware(GuardMiddleware, settings=settings)

    def openapi() -> dict[str, Any]:
        return _openapi(app)

    app.openapi = openapi  # type: ignore[method-assign]
    return app
