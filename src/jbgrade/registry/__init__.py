"""The case registry: cases, assessments, evidence, decisions, audit chain, encryption.

Needs the ``server`` extra (SQLAlchemy, Alembic, cryptography); PostgreSQL also
``postgres`` (psycopg 3). Typical use::

    engine = make_engine(resolve_database_url())
    upgrade(engine)
    reg = Registry(engine, Keyring.from_environment())
    admin, token = reg.bootstrap("Acme Lab", "root")

Every method takes an explicit :class:`Actor`; permissions come from the data
table :func:`permissions` (``data/permissions.json``) and the lifecycle from
:func:`lifecycle` (``data/lifecycle.json``).
"""

from jbgrade.registry._audit import AuditProblem, AuditReport
from jbgrade.registry._crypto import Keyring, generate_key, key_id
from jbgrade.registry._db import (
    APP_ROLE_GRANTS,
    HEAD_REVISION,
    create_app_role,
    current_revision,
    default_data_dir,
    make_engine,
    redact_url,
    resolve_database_url,
    upgrade,
)
from jbgrade.registry._keyfile import (
    KEY_FILE_NAME,
    default_key_dir,
    default_key_file,
    move_legacy_key_file,
)
from jbgrade.registry._seed import seed_cases
from jbgrade.registry._service import ORG_KINDS, SORTS, Registry
from jbgrade.registry._tables import (
    RELATIONS,
    ROLES,
    STATES,
    Lifecycle,
    PermissionRule,
    PermissionTable,
    Relation,
    Role,
    Transition,
    lifecycle,
    permissions,
)
from jbgrade.registry._views import (
    FORMAT_VERSION,
    Actor,
    AssessmentView,
    AuditEntryView,
    CasePage,
    CaseSummary,
    CaseView,
    DecisionView,
    EvidenceView,
    GrantView,
    IssuedToken,
    OrgView,
    ReconciliationView,
    TransitionView,
    UserView,
)

__all__ = [
    "APP_ROLE_GRANTS",
    "FORMAT_VERSION",
    "HEAD_REVISION",
    "KEY_FILE_NAME",
    "ORG_KINDS",
    "RELATIONS",
    "ROLES",
    "SORTS",
    "STATES",
    "Actor",
    "AssessmentView",
    "AuditEntryView",
    "AuditProblem",
    "AuditReport",
    "CasePage",
    "CaseSummary",
    "CaseView",
    "DecisionView",
    "EvidenceView",
    "GrantView",
    "IssuedToken",
    "Keyring",
    "Lifecycle",
    "OrgView",
    "PermissionRule",
    "PermissionTable",
    "ReconciliationView",
    "Registry",
    "Relation",
    "Role",
    "Transition",
    "TransitionView",
    "UserView",
    "create_app_role",
    "current_revision",
    "default_data_dir",
    "default_key_dir",
    "default_key_file",
    "generate_key",
    "key_id",
    "lifecycle",
    "make_engine",
    "move_legacy_key_file",
    "permissions",
    "redact_url",
    "resolve_database_url",
    "seed_cases",
    "upgrade",
]
