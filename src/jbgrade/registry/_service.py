"""The registry service: every operation takes an explicit actor and checks it.

Permission checks happen here, from the permission table (``data/permissions.json``),
not in the web layer: a case the actor may not see raises :class:`NotFoundError`
(existence is not leaked), an action the actor may not take on a visible case
raises :class:`PermissionDeniedError`, a forbidden lifecycle move raises
:class:`InvalidTransitionError`. Every write appends to the audit chain in the
same transaction. Payloads and transcripts are sealed before they reach the
database and opened only for an entitled caller who asks (and that disclosure
is itself audited).

``Registry`` is a facade over one aggregate per module, all sharing one
:class:`~jbgrade.registry._context.RegistryContext` (engine, keyring, clock,
sessions, audit hook, actor checks):

- ``_identity``: organisations, users, roles, passwords, tokens, sessions;
- ``_cases`` and ``_case_query``: cases, visibility, lifecycle, grants, listing;
- ``_assessments``: assessments and evidence;
- ``_decisions``: decisions and reconciliations;
- ``_keys``: the audit trail and key rotation.
"""

from __future__ import annotations

from jbgrade.registry._assessments import AssessmentStore
from jbgrade.registry._case_query import CaseQueries
from jbgrade.registry._cases import CaseStore
from jbgrade.registry._context import ORG_KINDS, SORTS
from jbgrade.registry._decisions import DecisionStore
from jbgrade.registry._identity import IdentityStore
from jbgrade.registry._keys import AuditKeyStore

__all__ = ["ORG_KINDS", "SORTS", "Registry"]


class Registry(
    IdentityStore, CaseStore, CaseQueries, AssessmentStore, DecisionStore, AuditKeyStore
):
    """The case registry over one database.

    ``Registry(engine, keyring)``; the engine comes from :func:`make_engine` and
    must be migrated (:func:`upgrade`). ``keyring`` may be None for deployments
    that never touch payloads; sealing or opening one then fails clearly.
    ``clock`` returns the current UTC instant (tests pass a fixed one).
    """
