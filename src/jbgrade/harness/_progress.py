"""How a run reports progress: a rich bar, nothing (quiet) or JSON lines (CI)."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from jbgrade.records import Attempt

__all__ = ["JsonReporter", "QuietReporter", "Reporter", "RichReporter", "RunSummary"]


@dataclass
class RunSummary:
    """What one run of a campaign did."""

    campaign: str
    planned: int = 0
    already_done: int = 0
    completed: int = 0
    ok: int = 0
    blocked: int = 0
    errors: int = 0
    successes: int = 0
    retries: int = 0
    requests: int = 0
    tokens: int = 0
    abandoned: int = 0
    outcome: str = "running"
    wall_s: float = 0.0
    error_reasons: dict[str, int] = field(default_factory=dict)

    @property
    def remaining(self) -> int:
        return self.planned - self.already_done - self.completed

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["remaining"] = self.remaining
        return d


class Reporter(Protocol):
    def start(self, summary: RunSummary) -> None: ...
    def attempt(self, attempt: Attempt, summary: RunSummary) -> None: ...
    def retry(self, target: str, reason: str, delay: float, summary: RunSummary) -> None: ...
    def finish(self, summary: RunSummary) -> None: ...


class QuietReporter:
    """Reports nothing while running."""

    def start(self, summary: RunSummary) -> None:
        return None

    def attempt(self, attempt: Attempt, summary: RunSummary) -> None:
        return None

    def retry(self, target: str, reason: str, delay: float, summary: RunSummary) -> None:
        return None

    def finish(self, summary: RunSummary) -> None:
        return None


class JsonReporter:
    """JSON lines on a stream: start, progress every ``interval_s``, each error, finish."""

    def __init__(self, stream: TextIO | None = None, interval_s: float = 2.0) -> None:
        self._out = stream or sys.stderr
        self._interval = interval_s
        self._last = 0.0

    def _emit(self, event: str, **data: Any) -> None:
        self._out.write(json.dumps({"event": event, "ts": time.time(), **data}) + "\n")
        self._out.flush()

    def start(self, summary: RunSummary) -> None:
        self._last = time.monotonic()
        self._emit("start", **summary.to_dict())

    def attempt(self, attempt: Attempt, summary: RunSummary) -> None:
        if attempt.status == "error":
            self._emit("attempt_error", key=attempt.key, target=attempt.target, error=attempt.error)
        now = time.monotonic()
        if now - self._last >= self._interval:
            self._last = now
            self._emit(
                "progress",
                done=summary.already_done + summary.completed,
                planned=summary.planned,
                errors=summary.errors,
                retries=summary.retries,
            )

    def retry(self, target: str, reason: str, delay: float, summary: RunSummary) -> None:
        self._emit("retry", target=target, reason=reason, delay_s=round(delay, 3))

    def finish(self, summary: RunSummary) -> None:
        self._emit("finish", **summary.to_dict())


class RichReporter:
    """A live bar with rate, ETA, errors and retries (on stderr)."""

    def __init__(self, console: Console | None = None) -> None:
        self._console = console or Console(stderr=True)
        # The campaign id goes on a line of its own (start): in the bar it took a third
        # of an 80-column terminal and the columns after it were cut.
        self._progress = Progress(
            BarColumn(bar_width=None),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[rate]:>7.1f}/s"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            TextColumn("[red]err {task.fields[errors]}[/] [yellow]retry {task.fields[retries]}[/]"),
            expand=True,
            console=self._console,
            transient=False,
            refresh_per_second=4,
        )
        self._task: Any = None
        self._t0 = 0.0
        self._interval = 0.25
        self._next = 0.0

    def start(self, summary: RunSummary) -> None:
        self._t0 = time.monotonic()
        self._console.print(
            f"{summary.campaign}: {summary.planned} attempts",
            markup=False,
            highlight=False,
        )
        self._progress.start()
        self._task = self._progress.add_task(
            summary.campaign,
            total=summary.planned,
            completed=summary.already_done,
            rate=0.0,
            errors=0,
            retries=0,
        )

    def _update(self, summary: RunSummary) -> None:
        now = time.monotonic()
        self._next = now + self._interval
        self._progress.update(
            self._task,
            completed=summary.already_done + summary.completed,
            # Capped so the column keeps its 7 cells (a resumed run can show a huge first rate).
            rate=min(99_999.9, summary.completed / max(1e-9, now - self._t0)),
            errors=summary.errors,
            retries=summary.retries,
        )

    def attempt(self, attempt: Attempt, summary: RunSummary) -> None:
        # Redrawn on a timer, not per attempt: the bar must not cost the run.
        if time.monotonic() >= self._next:
            self._update(summary)

    def retry(self, target: str, reason: str, delay: float, summary: RunSummary) -> None:
        if time.monotonic() >= self._next:
            self._update(summary)

    def finish(self, summary: RunSummary) -> None:
        self._update(summary)
        self._progress.stop()
