"""The one exception tree of jbgrade.

Every error the library raises on purpose derives from :class:`JbgradeError`,
so callers can catch one type. The CLI turns any :class:`JbgradeError` into
exit code 2 and one line on stderr; the API turns it into a 4xx problem body.

::

    JbgradeError
    ├── VectorError                  a JBG vector string is malformed (also ValueError)
    │   ├── VectorPrefixError        missing or unsupported "JBG:<version>/" prefix
    │   ├── UnknownMetricError       a metric key the standard does not define
    │   ├── DuplicateMetricError     the same metric twice
    │   ├── MissingMetricError       a mandatory metric is absent
    │   ├── MetricOrderError         metrics not in canonical order
    │   ├── MetricValueError         a value the metric does not allow
    │   └── VectorSyntaxError        a part is not METRIC:VALUE (empty part, no ':',
    │                                whitespace)
    ├── RubricTableError             scoring tables malformed or failing validation
    ├── InputError                   a user-supplied file or value is invalid
    │   │                            (carries path, line and field where known)
    │   ├── PolicyError              a policy profile or decision input is invalid
    │   │   └── UnknownProfileError  no profile of that name (lists the known ones)
    │   ├── CampaignSpecError        a campaign spec is invalid
    │   ├── BehaviourFileError       a behaviour set cannot be loaded
    │   ├── JudgeSpecError           a judge spec is invalid (unknown type, bad parameter)
    │   ├── CampaignDirError         a campaign directory cannot be read as evidence
    │   └── CaseFileError            a case file is invalid
    ├── HarnessError                 a campaign cannot proceed (target, budget, store)
    │   ├── TargetError              one call to a target failed (retryable or not)
    │   └── CampaignStoreError       a campaign directory is unusable or holds another spec
    └── RegistryError                the case registry refused an operation
        ├── NotFoundError            no such object (or not visible to the caller)
        ├── ConflictError            a unique name is taken, or a concurrent change won
        ├── PermissionDeniedError    the caller's role or organisation may not do this
        ├── InvalidTransitionError   a lifecycle transition the state machine forbids
        ├── AuditChainError          the audit chain is broken (names the first bad link)
        ├── AuthenticationError      unknown, expired or revoked token, session or password
        ├── KeyringError             encryption key missing or malformed, or a ciphertext
        │                            fails authentication (never echoes key or plaintext)
        └── DatabaseError            the database URL is unusable or the schema is not current
"""

from __future__ import annotations

__all__ = [
    "AuditChainError",
    "AuthenticationError",
    "BehaviourFileError",
    "CampaignDirError",
    "CampaignSpecError",
    "CampaignStoreError",
    "CaseFileError",
    "ConflictError",
    "DatabaseError",
    "DuplicateMetricError",
    "HarnessError",
    "InputError",
    "InvalidTransitionError",
    "JbgradeError",
    "JudgeSpecError",
    "KeyringError",
    "MetricOrderError",
    "MetricValueError",
    "MissingMetricError",
    "NotFoundError",
    "PermissionDeniedError",
    "PluginError",
    "PolicyError",
    "RegistryError",
    "ReportIntegrityError",
    "RubricTableError",
    "TargetError",
    "UnknownMetricError",
    "UnknownProfileError",
    "VectorError",
    "VectorPrefixError",
    "VectorSyntaxError",
]


class JbgradeError(Exception):
    """Root of every error jbgrade raises deliberately."""


class VectorError(JbgradeError, ValueError):
    """A JBG vector string is malformed.

    ``metric`` is the offending metric key (or ``None`` for the prefix) and
    ``position`` the 1-based index of the offending ``/``-separated part, the
    prefix being part 0.
    """

    def __init__(self, message: str, *, metric: str | None = None, position: int | None = None):
        super().__init__(message)
        self.metric = metric
        self.position = position


class VectorPrefixError(VectorError):
    """Missing or unsupported ``JBG:<version>/`` prefix."""


class UnknownMetricError(VectorError):
    """A metric key the standard does not define."""


class DuplicateMetricError(VectorError):
    """The same metric appears twice."""


class MissingMetricError(VectorError):
    """A mandatory metric is absent."""


class MetricOrderError(VectorError):
    """Metrics are not in canonical order."""


class MetricValueError(VectorError):
    """A value the metric does not allow."""


class VectorSyntaxError(VectorError):
    """A part is not ``METRIC:VALUE``: an empty part, a missing ``:`` or whitespace."""


class RubricTableError(JbgradeError):
    """Scoring tables are malformed or fail validation."""


class InputError(JbgradeError, ValueError):
    """A user-supplied file or value is invalid.

    ``path``, ``line`` and ``field`` locate the problem where known; ``str()``
    renders them as ``path:line: field: message``.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ):
        self.message = message
        self.path = path
        self.line = line
        self.field = field
        super().__init__(self._render())

    def _render(self) -> str:
        where = ""
        if self.path is not None:
            where = self.path if self.line is None else f"{self.path}:{self.line}"
            where += ": "
        if self.field:
            where += f"{self.field}: "
        return where + self.message


class PolicyError(InputError):
    """A policy profile or a decision input is invalid."""


class UnknownProfileError(PolicyError):
    """No policy profile of that name; the message lists the known ones."""


class PluginError(JbgradeError):
    """A plug-in registration is invalid (e.g. a name registered twice)."""


class ReportIntegrityError(InputError):
    """A report fails strict reading: a field does not follow from its inputs,
    its content hash does not match or its signature does not verify.
    ``field`` names the first field or check that fails."""


class CampaignSpecError(InputError):
    """A campaign spec is invalid."""


class BehaviourFileError(InputError):
    """A behaviour set cannot be loaded."""


class JudgeSpecError(InputError):
    """A judge spec is invalid: unknown type, missing or bad parameter."""


class CampaignDirError(InputError):
    """A campaign directory cannot be read as evidence (no manifest, bad records)."""


class CaseFileError(InputError):
    """A case file is invalid."""


class HarnessError(JbgradeError):
    """A campaign cannot proceed (unreachable target, exhausted budget, store failure)."""


class TargetError(HarnessError):
    """One call to a target failed.

    ``retryable`` says whether trying again may help (timeouts, 408, 429, 5xx,
    dropped connections, truncated bodies); ``retry_after`` is the server's
    Retry-After in seconds when it sent one; ``status`` the HTTP status if any.
    """

    def __init__(
        self,
        message: str,
        *,
        retryable: bool = False,
        retry_after: float | None = None,
        status: int | None = None,
    ):
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after
        self.status = status


class CampaignStoreError(HarnessError):
    """A campaign directory is unusable, or it holds a different campaign spec."""


class RegistryError(JbgradeError):
    """The case registry refused an operation."""


class NotFoundError(RegistryError):
    """No such object, or it is not visible to the caller."""


class ConflictError(RegistryError):
    """A unique name is already taken, or the object changed concurrently."""


class PermissionDeniedError(RegistryError):
    """The caller's role or organisation may not do this."""


class InvalidTransitionError(RegistryError):
    """A lifecycle transition the state machine forbids."""


class AuditChainError(RegistryError):
    """The audit chain is broken; the message names the first bad link."""


class AuthenticationError(RegistryError):
    """An unknown, expired or revoked API token or session, or a wrong password."""


class KeyringError(RegistryError):
    """An encryption key is missing or malformed, or a ciphertext fails authentication.

    Messages name the key id or field, never key material or plaintext.
    """


class DatabaseError(RegistryError):
    """The database URL is unusable, or the schema is missing or not current."""
