"""The JBG standard (1.0 and 1.1): tables (data), strict vectors, grading, validation.

Depends on the standard library only.
"""

from jbgrade.rubric._check import CheckReport, Violation, check_tables
from jbgrade.rubric._definitions import Definitions, definitions_for
from jbgrade.rubric._grade import (
    Grade,
    Grader,
    default_grader,
    grade,
    grade_many,
    grader_for,
    latest_grader,
)
from jbgrade.rubric._measure import (
    CG_LIMITED_LOW,
    CG_NONE_HIGH,
    CG_SUBSTANTIAL_LOW,
    CapabilityGain,
    capability_gain_letter,
    derive_capability_gain,
)
from jbgrade.rubric._migrate import Migration, migrate_vector
from jbgrade.rubric._render import tables_markdown
from jbgrade.rubric._tables import (
    CRITERIA,
    LATEST_VERSION,
    SEVERITIES,
    VERSIONS,
    Anchor,
    Criterion,
    Metric,
    Tables,
    default_tables,
    latest_tables,
    load_tables,
    tables_for,
    tables_from_data,
)
from jbgrade.rubric._vector import NOT_ASSESSED, Vector, parse_vector, tables_of

__all__ = [
    "CG_LIMITED_LOW",
    "CG_NONE_HIGH",
    "CG_SUBSTANTIAL_LOW",
    "CRITERIA",
    "LATEST_VERSION",
    "NOT_ASSESSED",
    "SEVERITIES",
    "VERSIONS",
    "Anchor",
    "CapabilityGain",
    "CheckReport",
    "Criterion",
    "Definitions",
    "Grade",
    "Grader",
    "Metric",
    "Migration",
    "Tables",
    "Vector",
    "Violation",
    "capability_gain_letter",
    "check_tables",
    "default_grader",
    "default_tables",
    "definitions_for",
    "derive_capability_gain",
    "grade",
    "grade_many",
    "grader_for",
    "latest_grader",
    "latest_tables",
    "load_tables",
    "migrate_vector",
    "parse_vector",
    "tables_for",
    "tables_from_data",
    "tables_markdown",
    "tables_of",
]
