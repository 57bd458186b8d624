"""Whether an obligation is overdue, due soon or pending on a given day.

One rule for every surface (web case page, assessment reports, ``jbgrade case``):
an obligation is **overdue** when its due date is before the day asked about,
**due soon** when it falls within ``DUE_SOON_DAYS`` days (today included), and
**pending** otherwise.
"""

from __future__ import annotations

import datetime as _dt
from functools import lru_cache
from typing import Literal

__all__ = ["DUE_SOON_DAYS", "DueStatus", "add_days", "due_status"]

DUE_SOON_DAYS = 7
DueStatus = Literal["overdue", "due_soon", "pending"]


def due_status(due: _dt.date, today: _dt.date, soon_days: int = DUE_SOON_DAYS) -> DueStatus:
    """``overdue`` (due < today), ``due_soon`` (due <= today + soon_days) or ``pending``."""
    if due < today:
        return "overdue"
    if due <= today + _dt.timedelta(days=soon_days):
        return "due_soon"
    return "pending"


@lru_cache(maxsize=8192)
def add_days(
    start: _dt.date, days: int, calendar: str, holidays: frozenset[_dt.date] = frozenset()
) -> _dt.date:
    """``start`` plus ``days`` calendar days, or business days (Mon-Fri, not holidays).

    Business days count from the day after ``start``: Friday + 1 business day
    is Monday; Saturday + 1 is Monday too. Zero days is ``start`` itself.
    """
    if calendar == "calendar":
        return start + _dt.timedelta(days=days)
    d, left = start, days
    one = _dt.timedelta(days=1)
    while left > 0:
        d += one
        if d.weekday() < 5 and d not in holidays:
            left -= 1
    return d
