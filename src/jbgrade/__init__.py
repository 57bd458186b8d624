"""jbgrade: open, rules-based grading of AI jailbreak severity.

The public API is what ``__all__`` lists; everything else is private.
"""

from jbgrade._errors import (
    AuditChainError,
    BehaviourFileError,
    CampaignSpecError,
    CaseFileError,
    DuplicateMetricError,
    HarnessError,
    InputError,
    InvalidTransitionError,
    JbgradeError,
    MetricOrderError,
    MetricValueError,
    MissingMetricError,
    NotFoundError,
    PermissionDeniedError,
    PolicyError,
    RegistryError,
    RubricTableError,
    UnknownMetricError,
    UnknownProfileError,
    VectorError,
    VectorPrefixError,
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

__version__ = "0.1.0"

__all__ = [
    "AuditChainError",
    "BehaviourFileError",
    "CampaignSpecError",
    "CaseFileError",
    "DuplicateMetricError",
    "Grade",
    "HarnessError",
    "InputError",
    "InvalidTransitionError",
    "JbgradeError",
    "MetricOrderError",
    "MetricValueError",
    "MissingMetricError",
    "NotFoundError",
    "PermissionDeniedError",
    "PolicyError",
    "RegistryError",
    "RubricTableError",
    "UnknownMetricError",
    "UnknownProfileError",
    "Vector",
    "VectorError",
    "VectorPrefixError",
    "__version__",
    "check_tables",
    "default_tables",
    "grade",
    "grade_many",
    "load_tables",
    "parse_vector",
]
