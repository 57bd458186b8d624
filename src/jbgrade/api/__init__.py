"""The HTTP API: FastAPI app factory, problem documents, security guards.

``create_app(Settings(...))`` builds the JSON API under ``/api/v1``;
``jbgrade.web.create_app`` adds the browser UI on top.
"""

from jbgrade.api._app import OPENAPI_URL, create_app
from jbgrade.api._guard import CONTENT_SECURITY_POLICY, SECURITY_HEADERS, TokenBuckets
from jbgrade.api._problems import PROBLEM_MEDIA_TYPE, PROBLEM_TYPES, Problem, ProblemType
from jbgrade.api._sessions import SessionData, SessionStore
from jbgrade.api._settings import Settings

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "OPENAPI_URL",
    "PROBLEM_MEDIA_TYPE",
    "PROBLEM_TYPES",
    "SECURITY_HEADERS",
    "Problem",
    "ProblemType",
    "SessionData",
    "SessionStore",
    "Settings",
    "TokenBuckets",
    "create_app",
]
