"""jbgrade: open, rules-based grading of AI jailbreak severity.

The public API is what ``__all__`` lists; everything else is private.
"""

import importlib
from typing import TYPE_CHECKING, Any

from jbgrade._errors import (
    AuditChainError,
    AuthenticationError,
    BehaviourFileError,
    CampaignDirError,
    CampaignSpecError,
    CampaignStoreError,
    CaseFileError,
    ConflictError,
    DatabaseError,
    DuplicateMetricError,
    HarnessError,
    InputError,
    InvalidTransitionError,
    JbgradeError,
    JudgeSpecError,
    KeyringError,
    MetricOrderError,
    MetricValueError,
    MissingMetricError,
    NotFoundError,
    PermissionDeniedError,
    PluginError,
    PolicyError,
    RegistryError,
    ReportIntegrityError,
    RubricTableError,
    TargetError,
    UnknownMetricError,
    UnknownProfileError,
    VectorError,
    VectorPrefixError,
    VectorSyntaxError,
)

if TYPE_CHECKING:
    from jbgrade.policy import (
        Decision,
        Profile,
        decide,
        list_profiles,
        load_all_profiles,
        load_profile,
    )
    from jbgrade.rubric import (
        Grade,
        Vector,
        check_tables,
        default_tables,
        grade,
        grade_many,
        load_tables,
        parse_vector,
    )

# Re-exports imported on first use, so that ``import jbgrade`` (and every CLI
# command) does not pay for the policy engine's and the rubric's imports.
_LAZY = {
    "Decision": "jbgrade.policy",
    "Profile": "jbgrade.policy",
    "decide": "jbgrade.policy",
    "list_profiles": "jbgrade.policy",
    "load_all_profiles": "jbgrade.policy",
    "load_profile": "jbgrade.policy",
    "Grade": "jbgrade.rubric",
    "Vector": "jbgrade.rubric",
    "check_tables": "jbgrade.rubric",
    "default_tables": "jbgrade.rubric",
    "grade": "jbgrade.rubric",
    "grade_many": "jbgrade.rubric",
    "load_tables": "jbgrade.rubric",
    "parse_vector": "jbgrade.rubric",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'jbgrade' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__version__ = "0.1.0"

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
    "Decision",
    "DuplicateMetricError",
    "Grade",
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
    "Profile",
    "RegistryError",
    "ReportIntegrityError",
    "RubricTableError",
    "TargetError",
    "UnknownMetricError",
    "UnknownProfileError",
    "Vector",
    "VectorError",
    "VectorPrefixError",
    "VectorSyntaxError",
    "__version__",
    "check_tables",
    "decide",
    "default_tables",
    "grade",
    "grade_many",
    "list_profiles",
    "load_all_profiles",
    "load_profile",
    "load_tables",
    "parse_vector",
]
