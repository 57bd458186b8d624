"""The JBG 1.0 standard: tables (data), strict vectors, grading, validation.

Depends on the standard library only.
"""

from jbgrade.rubric._check import CheckReport, Violation, check_tables
from jbgrade.rubric._grade import Grade, Grader, default_grader, grade, grade_many
from jbgrade.rubric._render import tables_markdown
from jbgrade.rubric._tables import (
    CRITERIA,
    SEVERITIES,
    Anchor,
    Criterion,
    Metric,
    Tables,
    default_tables,
    load_tables,
    tables_from_data,
)
from jbgrade.rubric._vector import NOT_ASSESSED, Vector, parse_vector

__all__ = [
    "CRITERIA",
    "NOT_ASSESSED",
    "SEVERITIES",
    "Anchor",
    "CheckReport",
    "Criterion",
    "Grade",
    "Grader",
    "Metric",
    "Tables",
    "Vector",
    "Violation",
    "check_tables",
    "default_grader",
    "default_tables",
    "grade",
    "grade_many",
    "load_tables",
    "parse_vector",
    "tables_from_data",
    "tables_markdown",
]
