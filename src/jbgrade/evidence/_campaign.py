"""Reading a campaign directory (manifest + attempt files) into evidence.

The directory layout is the harness's (``jbgrade.harness`` writes it):
``manifest.json`` with ``campaign``, ``targets`` (id, model, vendor, layers,
optional family) and ``attacks`` (id, kind, optional unattended), and
``attempts*.jsonl`` files of Attempt records, one per line. This module reads
them without importing the harness (evidence sits below it): a torn final
line (a crash mid-write) is skipped, a complete line that holds no attempt
record is skipped and reported (:class:`SkippedLine`), and the last valid
record of a key wins.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Generator, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from jbgrade._base import error_field, error_message
from jbgrade._errors import CampaignDirError
from jbgrade.evidence._compute import stream_evidence
from jbgrade.evidence._judge_error import JudgeError, judge_error_record
from jbgrade.evidence._model import AttackInfo, Evidence, TargetInfo
from jbgrade.judges import MEASURED_ERROR_KEY, JudgeConfusion, MeasuredError
from jbgrade.records import Attempt

__all__ = [
    "MANIFEST_NAME",
    "SkippedLine",
    "describe_skipped",
    "iter_attempt_lines",
    "iter_campaign_attempts",
    "load_campaign_evidence",
    "read_campaign_attempts",
]

MANIFEST_NAME = "manifest.json"
_log = logging.getLogger("jbgrade.evidence")


def _manifest(directory: Path) -> dict[str, Any]:
    path = directory / MANIFEST_NAME
    if not directory.is_dir():
        raise CampaignDirError("not a directory", path=str(directory))
    if not path.is_file():
        raise CampaignDirError(
            f"not a campaign directory (no {MANIFEST_NAME})", path=str(directory)
        )
    try:
        data = json.loads(path.read_text("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CampaignDirError(f"manifest is not JSON: {exc}", path=str(path)) from None
    if not isinstance(data, dict):
        raise CampaignDirError("manifest must be a JSON object", path=str(path))
    return data


def _target_infos(data: dict[str, Any], path: str, key: str = "targets") -> list[TargetInfo]:
    out = []
    for i, t in enumerate(data.get(key) or []):
        if not isinstance(t, dict) or "id" not in t:
            raise CampaignDirError("a target needs an id", path=path, field=f"{key}[{i}]")
        try:
            out.append(
                TargetInfo(
                    id=str(t["id"]),
                    model=str(t.get("model") or t["id"]),
                    vendor=str(t.get("vendor") or "unknown"),
                    family=t.get("family"),
                    layers=list(t.get("layers") or []),
                )
            )
        except ValidationError as exc:
            raise CampaignDirError(
                error_message(exc.errors()[0]), path=path, field=f"{key}[{i}]"
            ) from None
    return out


def _attack_infos(data: dict[str, Any]) -> list[AttackInfo]:
    out = []
    for a in data.get("attacks") or []:
        if not isinstance(a, dict):
            continue
        aid = a.get("id") or a.get("name")
        if not aid or a.get("kind") == "baseline":
            continue
        kind = str(a.get("kind") or a.get("type") or "template")
        unattended = a.get("unattended")
        if unattended is None:
            unattended = kind not in ("manual", "human", "interactive")
        out.append(AttackInfo(id=str(aid), kind=kind, unattended=bool(unattended)))
    return out


_KEY_RE = re.compile(rb'"key"\s*:\s*"([^"]*)"')


@dataclass(frozen=True, slots=True)
class SkippedLine:
    """A complete line of an attempt file that holds no attempt record (corrupted on
    disk, edited by hand): readers skip it, report it and never stop on it."""

    path: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


def describe_skipped(skipped: list[SkippedLine], *, show: int = 3) -> str:
    """One line naming the first ``show`` skipped lines and how many more."""
    head = "; ".join(str(s) for s in skipped[:show])
    more = f"; and {len(skipped) - show} more" if len(skipped) > show else ""
    n = len(skipped)
    return f"skipped {n} corrupt attempt line{'s' if n != 1 else ''} ({head}{more})"


def _lines(d: Path) -> Generator[tuple[Path, int, bytes], None, None]:
    for path in sorted(d.glob("attempts*.jsonl")):
        with path.open("rb") as fh:
            for n, line in enumerate(fh, start=1):
                if not line.endswith(b"\n"):
                    break  # torn final write of a killed run
                if line.strip():
                    yield path, n, line


def _parse(path: Path, n: int, line: bytes) -> Attempt | SkippedLine:
    try:
        return Attempt.model_validate_json(line)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = error_field(err) or ""
        msg = error_message(err)[:120]
        return SkippedLine(
            str(path), n, f"not an attempt record: {msg}" + (f" ({where})" if where else "")
        )


def iter_attempt_lines(
    directory: str | Path, skipped: list[SkippedLine] | None = None
) -> Iterator[Attempt]:
    """Every stored record in file order (duplicates of a key included).

    A complete line that is not an attempt record is skipped, appended to
    ``skipped`` when given and logged as a warning: one corrupt line never makes
    the rest of a campaign unreadable, and a resumed run repeats its attempt.
    """
    with closing(_lines(Path(directory))) as lines:
        for path, n, line in lines:
            rec = _parse(path, n, line)
            if isinstance(rec, SkippedLine):
                _skip(rec, skipped)
                continue
            yield rec


def _skip(rec: SkippedLine, skipped: list[SkippedLine] | None) -> None:
    if skipped is None:
        _log.warning("%s", rec)
    else:
        skipped.append(rec)


def iter_campaign_attempts(
    directory: str | Path, skipped: list[SkippedLine] | None = None
) -> Iterator[Attempt]:
    """The attempts of a campaign directory, one per key (the last record wins), streamed.

    Two passes: the first reads only each line's key and counts (as 64-bit hashes)
    the keys seen more than once; the second parses the records and holds back a
    record of such a key until that key's last line has gone by, then yields the
    last *valid* record of it. A corrupt line is skipped (see
    :func:`iter_attempt_lines`) and never hides an earlier valid record of its key.
    Memory: one hash per attempt, plus the records of repeated keys in flight.
    """
    d = Path(directory)
    seen: set[int] = set()
    dups: dict[int, int] = {}
    for _, _, line in _lines(d):
        h = _key_hash(line)
        if h in seen:
            dups[h] = dups.get(h, 1) + 1
        else:
            seen.add(h)
    del seen
    held: dict[int, Attempt] = {}
    # closing(): the file closes now if the consumer stops early, not at a later GC.
    with closing(_lines(d)) as lines:
        for path, n, line in lines:
            rec = _parse(path, n, line)
            if isinstance(rec, SkippedLine):
                _skip(rec, skipped)
            if not dups:
                if isinstance(rec, Attempt):
                    yield rec
                continue
            h = _key_hash(line)
            left = dups.get(h)
            if left is None:
                if isinstance(rec, Attempt):
                    yield rec
                continue
            if isinstance(rec, Attempt):
                held[h] = rec
            if left > 1:
                dups[h] = left - 1
                continue
            del dups[h]
            last = held.pop(h, None)
            if last is not None:
                yield last


def _key_hash(line: bytes) -> int:
    m = _KEY_RE.search(line)
    return hash(m.group(1)) if m else 0


def read_campaign_attempts(
    directory: str | Path, skipped: list[SkippedLine] | None = None
) -> list[Attempt]:
    """The attempts of a campaign directory, one per key (the last record wins)."""
    return list(iter_campaign_attempts(directory, skipped))


def load_campaign_evidence(
    directory: str | Path,
    skipped: list[SkippedLine] | None = None,
    *,
    judge_error: JudgeConfusion | None = None,
) -> Evidence:
    """Evidence from a campaign directory written by the harness, in one streaming pass.

    The judge's measured error (design 0110) comes from ``judge_error`` when given,
    else from the ``measured_error`` of the campaign spec's judge. Corrupt attempt
    lines are skipped, named in a note of the evidence and, when ``skipped`` is
    given, appended to it.
    """
    d = Path(directory)
    data = _manifest(d)
    path = str(d / MANIFEST_NAME)
    je, notes = _judge_error(data, d, judge_error)
    if skipped is None:
        skipped = []
    first = len(skipped)
    ev = stream_evidence(
        iter_campaign_attempts(d, skipped),
        _target_infos(data, path),
        _attack_infos(data),
        campaign=str(data["campaign"]) if data.get("campaign") else None,
        comparators=_target_infos(data, path, "comparators"),
        judge_error=je,
    )
    if len(skipped) > first:
        notes.append(
            describe_skipped(skipped[first:])
            + ": they count in no figure (campaign run --resume repeats an attempt they held)"
        )
    if notes:
        ev = ev.model_copy(update={"notes": [*ev.notes, *notes]})
    return _with_import_gaps(ev, data)


def _judge_error(
    data: dict[str, Any], directory: Path, override: JudgeConfusion | None
) -> tuple[JudgeError | None, list[str]]:
    """The judge error to correct for, and notes on why none is applied."""
    spec = data.get("spec")
    judges = spec.get("judges") if isinstance(spec, dict) else None
    judges = [j for j in judges or [] if isinstance(j, dict)]
    declared = [j for j in judges if j.get(MEASURED_ERROR_KEY) is not None]
    if override is None and not declared:
        return None, []
    if len(judges) > 1:
        return None, [
            f"judge error declared, but {len(judges)} judges are combined: the combination's "
            "error is unmeasured, so rates are not corrected (measure the combination with "
            "`jbgrade judge eval --judge '{type: ensemble, ...}'`)"
        ]
    judge = {k: v for k, v in (judges[0] if judges else {}).items() if k != MEASURED_ERROR_KEY}
    name = json.dumps(judge, sort_keys=True, separators=(",", ":"))
    if override is not None:
        return judge_error_record(name, override), _type_notes(judge, override)
    where = str(directory / MANIFEST_NAME)
    try:
        me = MeasuredError.model_validate(declared[0][MEASURED_ERROR_KEY])
    except ValidationError as exc:
        msg = error_message(exc.errors()[0])
        raise CampaignDirError(
            f"judges[0].measured_error: {msg}", path=where, field="spec.judges"
        ) from None
    spec_path = data.get("spec_path")
    base = Path(spec_path).parent if isinstance(spec_path, str) and spec_path else directory
    conf = me.confusion(base)
    return judge_error_record(name, conf), _type_notes(judge, conf)


def _type_notes(judge: dict[str, Any], conf: JudgeConfusion) -> list[str]:
    kind = judge.get("type")
    if conf.judge_type is None or kind is None or conf.judge_type == kind:
        return []
    return [
        f"the judge error was measured for a {conf.judge_type!r} judge, but the campaign's "
        f"judge is {kind!r}: the correction assumes they err alike"
    ]


def _with_import_gaps(ev: Evidence, data: dict[str, Any]) -> Evidence:
    """An imported campaign (``spec.import``, see jbgrade.interop): its gaps become notes,
    and where the source gave no hazard domain, HD is not derived."""
    spec = data.get("spec")
    imp = spec.get("import") if isinstance(spec, dict) else None
    if not isinstance(imp, dict):
        return ev
    gaps = [g for g in imp.get("gaps") or [] if isinstance(g, dict)]
    notes = [
        f"imported from {imp.get('tool')} {imp.get('tool_version') or ''} "
        f"(sha256 {str(imp.get('sha256', ''))[:12]})".replace("  ", " ")
    ]
    notes += [str(g.get("message", "")) for g in gaps]
    attacks = ev.attacks
    if any(g.get("id") == "domains" for g in gaps):
        attacks = []
        for a in ev.attacks:
            hd = a.metrics.get("HD")
            if hd is None:
                attacks.append(a)
                continue
            blank = hd.model_copy(
                update={
                    "value": None,
                    "per_target": {},
                    "explanation": "not derived: the imported records carry no hazard domain "
                    "(give one in the import mapping file)",
                }
            )
            attacks.append(a.model_copy(update={"metrics": {**a.metrics, "HD": blank}}))
    return ev.model_copy(update={"notes": [*ev.notes, *notes], "attacks": attacks})
