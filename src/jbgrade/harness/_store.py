"""The attempt store: append-only JSONL in the campaign directory, plus a manifest.

Layout of a campaign directory::

    manifest.json                the resolved spec, its hash, targets, seeds, plan size
    attempts.jsonl               one Attempt per line, written and flushed on completion
    attempts.shard-I-of-N.jsonl  the same, for shard I of N (see below)
    runs.jsonl                   one line per run: start, end, outcome, counters

Durability: each attempt is one ``os.write`` of a whole line on an unbuffered
``O_APPEND`` descriptor, so once ``append`` returns the line is in the OS page
cache and survives a ``kill -9`` of the process (``fsync=True`` also survives
power loss). A line
torn by a crash mid-write is tolerated: readers skip a final line without
newline, and a resumed writer cuts it off before appending. A complete line
that holds no attempt record (corrupted on disk) is skipped and reported by
every reader (``SkippedLine``); a resumed run repeats its attempt and appends
the new record, so the corrupt line stays for inspection and nothing is lost.

Sharding: the unit of work is one attempt with a stable key, so a campaign
can be split by key: shard I of N owns the keys with ``int(key[:16], 16) % N
== I`` and writes its own file. Shards never write the same file, any number
of processes or machines can run them, and readers take the union of all
``attempts*.jsonl`` files, the last record of a key winning.
"""

from __future__ import annotations

import json
import os
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import MISSING, Field, ValidationError

from jbgrade._base import FrozenRecord, JsonObject, error_message
from jbgrade._errors import CampaignStoreError, InputError
from jbgrade._vocab import Domain
from jbgrade.evidence import SkippedLine, iter_attempt_lines
from jbgrade.harness._targets import TargetInfo
from jbgrade.records import Attempt

__all__ = [
    "AttemptStore",
    "Manifest",
    "ManifestAttack",
    "ManifestBehaviourSet",
    "Shard",
    "iter_attempt_records",
    "load_manifest",
    "read_attempts",
    "read_runs",
]

MANIFEST = "manifest.json"
# The record's JSON as bytes, straight from pydantic's serializer (no str round trip).
_to_json = Attempt.__pydantic_serializer__.to_json
RUNS = "runs.jsonl"


@dataclass(frozen=True, slots=True)
class Shard:
    """Shard ``index`` of ``count`` (0-based); ``Shard(0, 1)`` is the whole campaign."""

    index: int = 0
    count: int = 1

    def __post_init__(self) -> None:
        if self.count < 1 or not 0 <= self.index < self.count:
            raise InputError(f"bad shard {self.index}/{self.count}", field="--shard")

    @classmethod
    def parse(cls, text: str) -> Shard:
        """``"I/N"`` with 0 <= I < N."""
        try:
            i, n = (int(x) for x in text.split("/"))
        except ValueError:
            raise InputError(f"shard must look like I/N, not {text!r}", field="--shard") from None
        return cls(i, n)

    def owns(self, key: str) -> bool:
        return self.count == 1 or int(key[:16], 16) % self.count == self.index

    @property
    def filename(self) -> str:
        if self.count == 1:
            return "attempts.jsonl"
        return f"attempts.shard-{self.index}-of-{self.count}.jsonl"


class ManifestAttack(FrozenRecord):
    """One arm of a campaign in its manifest: the baseline or an attack.

    A campaign the harness ran gives ``tags`` and ``spec``; an imported one
    (``jbgrade import``) gives ``unattended`` and ``tool`` instead. A key an entry
    does not have is left out of the JSON (never written as null).
    """

    id: str = Field(description="Attack id ('baseline' for the baseline arm).")
    kind: str = Field(description="Attack kind (template, multi-turn, manual, baseline...).")
    tags: list[str] | MISSING = Field(default=MISSING, description="The attack's tags.")
    spec: JsonObject | MISSING = Field(
        default=MISSING, description="The attack's resolved spec (what rebuilds it)."
    )
    unattended: bool | MISSING = Field(
        default=MISSING, description="Imported: the attack ran without a human in the loop."
    )
    tool: str | MISSING = Field(default=MISSING, description="Imported: the tool that ran it.")


class ManifestBehaviourSet(FrozenRecord):
    """One behaviour set of a campaign in its manifest."""

    source: str = Field(description="Set name or file, as the spec gives it (tool:file imported).")
    count: int = Field(ge=0, description="Behaviours taken from the set (after filters).")
    domains: list[Domain] | dict[str, int] = Field(
        description="The hazard domains the behaviours cover; imported: behaviours per domain."
    )
    digest: str | MISSING = Field(
        default=MISSING,
        description="SHA-256 over the behaviours' ids, domains, categories and texts "
        "(the harness; left out for imported campaigns).",
    )


class Manifest(FrozenRecord):
    """What a campaign directory holds: written once, checked on every resume."""

    format_version: Literal[1] = 1
    campaign: str = Field(description="Campaign id: name and the first 12 hex of the spec hash.")
    name: str = Field(description="Campaign name from the spec.")
    spec_hash: str = Field(description="SHA-256 of the spec's identity (limits excluded).")
    spec: JsonObject = Field(
        description="The validated spec, defaults filled in (imported: {import: ...})."
    )
    spec_path: str | None = Field(default=None, description="Where the spec was read from.")
    targets: list[TargetInfo] = Field(description="Each target's model, vendor and layers.")
    comparators: list[TargetInfo] = Field(
        default_factory=list,
        description="Each comparator's model, vendor and layers (the comparator arm).",
    )
    attacks: list[ManifestAttack] = Field(description="Each arm: id, kind and how it was made.")
    behaviour_sets: list[ManifestBehaviourSet] = Field(
        description="Each behaviour set: source, count, domains, digest of the ids and texts."
    )
    judges: list[JsonObject] = Field(description="Each judge's spec (the judge's own options).")
    combine: str = Field(description="The rule combining several judges.")
    seeds: list[int]
    samples: int
    planned: int = Field(description="Attempts in the full grid (all shards).")
    created_at: datetime
    jbgrade_version: str


def _utcnow() -> datetime:
    return datetime.now(UTC)


def load_manifest(directory: Path) -> Manifest:
    """Read ``manifest.json`` of a campaign directory."""
    path = directory / MANIFEST
    if not path.is_file():
        raise CampaignStoreError(f"{directory}: not a campaign directory (no {MANIFEST})")
    try:
        return Manifest.model_validate_json(path.read_bytes())
    except ValidationError as exc:
        raise CampaignStoreError(
            f"{path}: invalid manifest: {error_message(exc.errors()[0])}"
        ) from None


def _attempt_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("attempts*.jsonl"))


def _iter_lines(path: Path) -> Generator[tuple[int, bytes], None, None]:
    """Complete lines only: a final line without newline is a torn write."""
    with path.open("rb") as fh:
        for n, line in enumerate(fh, start=1):
            if line.endswith(b"\n"):
                yield n, line


def iter_attempt_records(
    directory: Path, skipped: list[SkippedLine] | None = None
) -> Iterator[Attempt]:
    """Every stored record in file order (duplicates of a key included).

    A complete line that is not an attempt record (corrupted on disk) is skipped
    and appended to ``skipped`` (logged as a warning when not given).
    """
    return iter_attempt_lines(directory, skipped)


def read_attempts(directory: Path, skipped: list[SkippedLine] | None = None) -> list[Attempt]:
    """The campaign's attempts, one per key (the last valid record of a key wins)."""
    latest: dict[str, Attempt] = {}
    for a in iter_attempt_records(directory, skipped):
        latest.pop(a.key, None)
        latest[a.key] = a
    return list(latest.values())


class AttemptStore:
    """Append-only writer for one shard of a campaign directory."""

    def __init__(self, directory: Path, shard: Shard = Shard(), *, fsync: bool = False) -> None:
        self.directory = directory
        self.shard = shard
        self.fsync = fsync
        self.path = directory / shard.filename
        self._fd: int | None = None
        self.skipped: list[SkippedLine] = []

    # ---- opening

    @classmethod
    def open(
        cls,
        directory: Path,
        manifest: Manifest,
        *,
        resume: bool,
        shard: Shard = Shard(),
        fsync: bool = False,
    ) -> AttemptStore:
        """Create or reopen a campaign directory for ``manifest``.

        Without ``resume``, a directory that already holds attempts is refused;
        with it, the stored manifest must have the same spec hash.
        """
        directory.mkdir(parents=True, exist_ok=True)
        mpath = directory / MANIFEST
        files = [p for p in _attempt_files(directory) if p.stat().st_size > 0]
        has_attempts = bool(files)
        # Without --resume, only attempts this run could collide with are refused:
        # this shard's own file, or files of another split. Sibling shards of the
        # same split (I/N started together on one fresh --out) do not block.
        siblings = {Shard(i, shard.count).filename for i in range(shard.count)}
        own_or_foreign = any(
            p.name == shard.filename or (shard.count > 1 and p.name not in siblings) for p in files
        )
        if mpath.is_file():
            old = load_manifest(directory)
            if old.spec_hash != manifest.spec_hash:
                raise CampaignStoreError(
                    f"{directory} holds campaign {old.campaign} (spec hash "
                    f"{old.spec_hash[:12]}); this spec hashes to {manifest.spec_hash[:12]}: "
                    "use another --out directory"
                )
            if own_or_foreign and not resume:
                raise CampaignStoreError(
                    f"{directory} already holds attempts of {old.campaign}: "
                    "pass --resume to continue it, or use another --out directory"
                )
        elif has_attempts:
            raise CampaignStoreError(f"{directory} holds attempts but no {MANIFEST}")
        if not mpath.is_file():
            # A name per process: shards started together each write the same manifest.
            tmp = mpath.with_suffix(f".json.{os.getpid()}.tmp")
            tmp.write_text(manifest.model_dump_json(indent=2) + "\n", encoding="utf-8")
            os.replace(tmp, mpath)
        store = cls(directory, shard, fsync=fsync)
        store._repair_tail()
        return store

    def _repair_tail(self) -> None:
        """Cut a torn last line (a crash mid-write) so appends start on a clean line."""
        if not self.path.is_file():
            return
        with self.path.open("rb+") as fh:
            size = fh.seek(0, os.SEEK_END)
            if size == 0:
                return
            fh.seek(size - 1)
            if fh.read(1) == b"\n":
                return
            # Find the last newline; everything after it is the torn record.
            pos = size
            chunk = 4096
            while pos > 0:
                start = max(0, pos - chunk)
                fh.seek(start)
                data = fh.read(pos - start)
                idx = data.rfind(b"\n")
                if idx >= 0:
                    fh.truncate(start + idx + 1)
                    return
                pos = start
            fh.truncate(0)

    # ---- reading

    def completed(self, *, retry_errors: bool = False) -> set[str]:
        """Keys already stored (in any shard file); with ``retry_errors``, keys whose
        last record is an error are left out so they run again."""
        # Every line is validated (as fast as json.loads): a corrupt line whose key
        # still parses must not count its attempt as done. Skipped lines are kept
        # in ``self.skipped`` for the caller to report; their attempts run again.
        status: dict[str, str] = {}
        self.skipped = []
        for rec in iter_attempt_lines(self.directory, self.skipped):
            status[rec.key] = rec.status
        if retry_errors:
            return {k for k, s in status.items() if s != "error"}
        return set(status)

    # ---- writing

    def append(self, attempt: Attempt) -> None:
        """Write one attempt as one line, straight to the OS (no user-space buffer).

        One ``os.write`` on an ``O_APPEND`` descriptor: when it returns, the line
        is in the page cache and survives ``kill -9``; concurrent appenders never
        interleave inside a line.
        """
        fd = self._fd
        if fd is None:
            fd = self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        data = _to_json(attempt) + b"\n"
        n = os.write(fd, data)
        while n < len(data):  # a short write (signal, full disk): finish the line
            data = data[n:]
            n = os.write(fd, data)
        if self.fsync:
            os.fsync(fd)

    def log_run(self, record: dict[str, Any]) -> None:
        with (self.directory / RUNS).open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, default=str) + "\n")

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def read_runs(directory: Path) -> list[dict[str, Any]]:
    path = directory / RUNS
    if not path.is_file():
        return []
    out = []
    for _, line in _iter_lines(path):
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out
