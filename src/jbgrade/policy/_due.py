"""Whether an obligation is overdue, due soon or pending on a given day.

One rule for every surface (web case page, assessment reports, ``jbgrade case``):
an obligation is **overdue** when its due date is before the day asked about,
**due soon** when it falls within ``DUE_SOON_DAYS`` days (today included), and
**pending** otherwise.
"""

from __future__ import annotations

import datetime as _dt
from typing import Literal

__all__ = ["DUE_SOON_DAYS", "DueStatus", "due_status"]

DUE_SOON_DAYS = 7
DueStatus = Literal["overdue", "due_soon", "pending"]


def due_status(due: _dt.date, today: _dt.date, soon_days: int = DUE_SOON_DAYS) -> DueStatus:
    """``overdue`` (due < today), ``due_soon`` (due <= today + soon_days) or ``pending``."""
    if due < today:
        return "overdue"
    if due <= today + _dt.timedelta(days=soon_days):
        return "due_soon"
    return "pending"
