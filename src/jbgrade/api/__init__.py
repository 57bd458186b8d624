"""The HTTP API: FastAPI app factory, problem documents, security guards.

``create_app(Settings(...))`` builds the JSON API under ``/api/v1``;
``jbgrade.web.create_app`` adds the browser UI on top.
"""

from jbgrade.api._app import OPENAPI_URL, create_app
from jbgrade.api._auth import Caller, get_registry, require_actor, require_csrf, resolve_caller
from jbgrade.api._guard import CONTENT_SECURITY_POLICY, SECURITY_HEADERS, TokenBuckets
from jbgrade.api._policy_routes import shipped_profile, today_utc
from jbgrade.api._problems import PROBLEM_MEDIA_TYPE, PROBLEM_TYPES, Problem, ProblemType
from jbgrade.api._registry_routes import decide_on_case
from jbgrade.api._sessions import SessionStore
from jbgrade.api._settings import Settings

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "OPENAPI_URL",
    "PROBLEM_MEDIA_TYPE",
    "PROBLEM_TYPES",
    "SECURITY_HEADERS",
    "Caller",
    "Problem",
    "ProblemType",
    "SessionStore",
    "Settings",
    "TokenBuckets",
    "create_app",
    "decide_on_case",
    "get_registry",
    "require_actor",
    "require_csrf",
    "resolve_caller",
    "shipped_profile",
    "today_utc",
]
