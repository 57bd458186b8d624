"""Limits shared by processes on one host: a SQLite token bucket in the campaign directory.

``--shard I/N`` processes of one campaign share, through ``limits.sqlite``
beside ``manifest.json``:

- each target's ``requests_per_s`` (one next-slot time per target: every
  request reserves the slot after the last one, whoever sent it),
- each target's ``tokens_per_min`` bucket (reported usage drains it),
- Retry-After pauses (a 429 seen by one shard pauses that target for all),
- the campaign ``budget`` (requests and tokens of the shards running together;
  the counters restart when a shard starts while no other shard of the
  directory is alive, as a single process's budget restarts on ``--resume``).

Concurrency (``limits.concurrency`` and a target's ``concurrency``) is
**divided**: shard I of N runs at most ``ceil(c / N)`` attempts (target
requests) at once, so the N shards together stay within about ``c``.

Every reservation is one short ``BEGIN IMMEDIATE`` transaction on wall-clock
time (``time.time()``), so processes see one clock. SQLite's locking needs
a local file system: shards on several hosts should use the Ray executor
(``--executor ray``), whose limits live in one actor.
"""

from __future__ import annotations

import asyncio
import os
import random
import sqlite3
import time
from pathlib import Path

from jbgrade.harness._limits import BudgetExhausted

__all__ = ["LIMITS_DB", "SharedBudget", "SharedLimits", "SharedThrottle"]

LIMITS_DB = "limits.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS bucket (
    target INTEGER PRIMARY KEY,
    next_slot REAL NOT NULL DEFAULT 0,
    level REAL,
    stamp REAL NOT NULL DEFAULT 0,
    pause_until REAL NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS budget (
    id INTEGER PRIMARY KEY CHECK (id = 0),
    requests INTEGER NOT NULL DEFAULT 0,
    tokens INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS holder (
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    started REAL NOT NULL,
    PRIMARY KEY (pid, host)
);
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _setup(db: sqlite3.Connection, patience_s: float = 30.0) -> None:
    """WAL mode and the schema, retried while another shard is doing the same.

    SQLite's busy timeout does not cover two cases that shards starting together
    hit: switching the journal mode while another connection opens the file, and
    a write whose read snapshot went stale (``SQLITE_BUSY_SNAPSHOT``); both raise
    "database is locked" at once. The schema is created under ``BEGIN IMMEDIATE``
    (the write lock is taken before anything is read) and the whole step is
    retried with a short jittered back-off.
    """
    deadline = time.monotonic() + patience_s
    pause = 0.005
    while True:
        try:
            if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=OFF")
            db.executescript(f"BEGIN IMMEDIATE;{_SCHEMA}COMMIT;")
            return
        except sqlite3.OperationalError as exc:
            if db.in_transaction:
                db.execute("ROLLBACK")
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            if time.monotonic() > deadline:
                raise
            time.sleep(pause * (1.0 + random.random()))
            pause = min(pause * 2.0, 0.25)


class SharedLimits:
    """The ``limits.sqlite`` of one campaign directory, opened by one process."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / LIMITS_DB
        self._db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        _setup(self._db)
        self._host = os.uname().nodename
        with self.transaction() as db:
            rows = db.execute("SELECT pid, host FROM holder").fetchall()
            live = [(p, h) for p, h in rows if h != self._host or _alive(p)]
            if not live:
                # No other shard is running: this run's budget starts at zero.
                db.execute("DELETE FROM budget")
            db.execute("DELETE FROM holder")
            db.executemany("INSERT INTO holder VALUES (?, ?, 0)", live)
            db.execute(
                "INSERT OR REPLACE INTO holder VALUES (?, ?, ?)",
                (os.getpid(), self._host, time.time()),
            )
            db.execute("INSERT OR IGNORE INTO budget (id) VALUES (0)")

    def transaction(self) -> _Txn:
        return _Txn(self._db)

    def throttle(
        self, target: int, requests_per_s: float | None, tokens_per_min: float | None
    ) -> SharedThrottle:
        with self.transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO bucket (target, level, stamp) VALUES (?, ?, ?)",
                (target, float(tokens_per_min or 0.0), time.time()),
            )
        return SharedThrottle(self, target, requests_per_s, tokens_per_min)

    def budget(self, max_requests: int | None, max_tokens: int | None) -> SharedBudget:
        return SharedBudget(self, max_requests, max_tokens)

    def close(self) -> None:
        try:
            with self.transaction() as db:
                db.execute(
                    "DELETE FROM holder WHERE pid = ? AND host = ?", (os.getpid(), self._host)
                )
        finally:
            self._db.close()


class _Txn:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on error)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self.db.execute("ROLLBACK" if exc_type is not None else "COMMIT")


class SharedThrottle:
    """A target's pacing shared through ``limits.sqlite`` (the TargetThrottle interface)."""

    def __init__(
        self,
        shared: SharedLimits,
        target: int,
        requests_per_s: float | None,
        tokens_per_min: float | None,
    ) -> None:
        self._shared = shared
        self._target = target
        self._interval = 1.0 / requests_per_s if requests_per_s else 0.0
        self._tpm = float(tokens_per_min) if tokens_per_min else 0.0

    def open(self) -> bool:
        """Never: even without rates, a pause another shard set must be seen."""
        return False

    def _reserve(self) -> float:
        """Reserve the next slot; the seconds to wait for it (negative: retry later)."""
        t = self._target
        with self._shared.transaction() as db:
            now = time.time()
            row = db.execute(
                "SELECT next_slot, level, stamp, pause_until FROM bucket WHERE target = ?", (t,)
            ).fetchone()
            next_slot, level, stamp, pause_until = (float(x or 0.0) for x in row)
            wait = pause_until - now
            if self._tpm:
                level = min(self._tpm, float(level) + (now - stamp) * self._tpm / 60.0)
                db.execute(
                    "UPDATE bucket SET level = ?, stamp = ? WHERE target = ?", (level, now, t)
                )
                if level <= 0:
                    wait = max(wait, -level * 60.0 / self._tpm + 0.001)
            if wait > 0:
                return -wait
            slot = max(now, next_slot)
            if self._interval:
                db.execute(
                    "UPDATE bucket SET next_slot = ? WHERE target = ?", (slot + self._interval, t)
                )
            return slot - now

    async def acquire(self) -> None:
        while True:
            wait = self._reserve()
            if wait < 0:
                await asyncio.sleep(-wait)
                continue
            if wait > 0:
                await asyncio.sleep(wait)
                # A pause set (by any shard) while this request waited for its slot
                # holds it too.
                if self._paused():
                    continue
            return

    def _paused(self) -> bool:
        row = self._shared._db.execute(
            "SELECT pause_until FROM bucket WHERE target = ?", (self._target,)
        ).fetchone()
        return bool(row) and float(row[0] or 0.0) > time.time()

    def pause(self, seconds: float) -> None:
        with self._shared.transaction() as db:
            db.execute(
                "UPDATE bucket SET pause_until = MAX(pause_until, ?) WHERE target = ?",
                (time.time() + seconds, self._target),
            )

    def spend_tokens(self, n: int) -> None:
        if self._tpm:
            with self._shared.transaction() as db:
                db.execute(
                    "UPDATE bucket SET level = level - ? WHERE target = ?", (n, self._target)
                )


class SharedBudget:
    """The campaign budget shared through ``limits.sqlite`` (the BudgetMeter interface)."""

    def __init__(
        self, shared: SharedLimits, max_requests: int | None, max_tokens: int | None
    ) -> None:
        self._shared = shared
        self.max_requests = max_requests
        self.max_tokens = max_tokens
        self.exhausted = False

    def reserve_request(self) -> None:
        if self.exhausted:
            raise BudgetExhausted
        if self.max_requests is None and self.max_tokens is None:
            return
        with self._shared.transaction() as db:
            requests, tokens = db.execute(
                "SELECT requests, tokens FROM budget WHERE id = 0"
            ).fetchone()
            if (self.max_requests is not None and requests >= self.max_requests) or (
                self.max_tokens is not None and tokens >= self.max_tokens
            ):
                self.exhausted = True
            else:
                db.execute("UPDATE budget SET requests = requests + 1 WHERE id = 0")
        if self.exhausted:
            raise BudgetExhausted

    def add_tokens(self, n: int) -> None:
        if self.max_tokens is None:
            return
        with self._shared.transaction() as db:
            db.execute("UPDATE budget SET tokens = tokens + ? WHERE id = 0", (n,))
