"""Inspect AI eval logs (``.eval`` zip or ``.json``) -> attempts.

Read without importing ``inspect_ai`` (its maintainers call the file layout
unfrozen; the layout read here is the one 0.3.x writes, checked against
fixtures made by inspect-ai itself):

* ``.eval``: a zip whose ``header.json`` is the EvalLog without samples and
  whose ``samples/<id>_epoch_<n>.json`` members are one EvalSample each.
  Members are read one at a time, decompressed as a stream (stored, deflate
  or zstd), so memory is bounded by the largest sample, not the file.
* ``.json``: one EvalLog; ``eval`` and each item of ``samples`` are pulled
  with an incremental parser (ijson), again one sample at a time.

Each sample x epoch is one attempt: ``metadata.behaviour_id`` (or the sample
id) is the behaviour, ``metadata.attack`` (or the task name) the attack,
``metadata.domain``/``category`` the hazard domain where the task sets them;
each scorer gives a verdict (C = 1, P = 0.5, I = 0, numbers as they are), and
a score at or above the mapping's threshold is a jailbreak success (``invert``
for tasks that score safe behaviour as correct).
"""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from jbgrade._errors import InputError
from jbgrade.interop._sink import ImportSink, Source, file_sha256
from jbgrade.records import ChatMessage

__all__ = ["import_inspect", "iter_eval_zip"]

_ZSTD = 93
_LETTERS = {"C": 1.0, "P": 0.5, "I": 0.0, "N": 0.0}
_ROLES = {"user", "assistant", "system", "tool"}


class _Limited(io.RawIOBase):
    """``size`` bytes of ``fh`` from its current position, as a stream."""

    def __init__(self, fh: IO[bytes], size: int) -> None:
        self.fh = fh
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        if self.left <= 0:
            return 0
        data = self.fh.read(min(len(b), self.left))
        self.left -= len(data)
        b[: len(data)] = data
        return len(data)


class _Inflate(io.RawIOBase):
    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.d = zlib.decompressobj(-15)
        self.buf = b""

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        while not self.buf:
            chunk = self.raw.read(1 << 16)
            if not chunk:
                self.buf = self.d.flush()
                break
            self.buf = self.d.decompress(chunk)
        n = min(len(b), len(self.buf))
        b[:n] = self.buf[:n]
        self.buf = self.buf[n:]
        return n


def _member_stream(fh: IO[bytes], info: zipfile.ZipInfo, path: str) -> IO[bytes]:
    """A decompressing stream over one member (stored, deflate or zstd)."""
    fh.seek(info.header_offset)
    head = fh.read(30)
    if len(head) != 30 or head[:4] != b"PK\x03\x04":
        raise InputError("bad local header", path=f"{path}!{info.filename}")
    name_len, extra_len = struct.unpack("<HH", head[26:30])
    fh.seek(info.header_offset + 30 + name_len + extra_len)
    raw = io.BufferedReader(_Limited(fh, info.compress_size), 1 << 16)
    if info.compress_type == zipfile.ZIP_STORED:
        return raw
    if info.compress_type == zipfile.ZIP_DEFLATED:
        return io.BufferedReader(_Inflate(raw), 1 << 16)
    if info.compress_type == _ZSTD:
        try:
            import zstandard
        except ImportError:  # pragma: no cover - zstandard ships with jbgrade[interop]
            raise InputError(
                "zstd-compressed member: install jbgrade[interop] (zstandard)",
                path=f"{path}!{info.filename}",
            ) from None
        return zstandard.ZstdDecompressor().stream_reader(raw)
    raise InputError(
        f"unsupported compression method {info.compress_type}", path=f"{path}!{info.filename}"
    )


def _load_member(fh: IO[bytes], info: zipfile.ZipInfo, path: str) -> Any:
    where = f"{path}!{info.filename}"
    try:
        return json.load(_member_stream(fh, info, path))
    except ValueError as exc:
        raise InputError(f"not JSON ({exc})", path=where) from None
    except Exception as exc:  # zstd / zlib errors
        if isinstance(exc, InputError):
            raise
        raise InputError(f"cannot decompress: {exc}", path=where) from None


def iter_eval_zip(path: Path) -> tuple[dict[str, Any], Iterator[tuple[str, dict[str, Any]]]]:
    """The header and an iterator of (member name, sample), one member at a time."""
    name = str(path)
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise InputError(f"not an Inspect .eval zip ({exc})", path=name) from None
    infos = zf.infolist()
    zf.close()
    by_name = {i.filename: i for i in infos}
    fh = path.open("rb")
    if "header.json" in by_name:
        header = _load_member(fh, by_name["header.json"], name)
    elif "_journal/start.json" in by_name:
        header = _load_member(fh, by_name["_journal/start.json"], name)
    else:
        fh.close()
        raise InputError("no header.json or _journal/start.json", path=name)
    if not isinstance(header, dict):
        fh.close()
        raise InputError("header is not an object", path=f"{name}!header.json")
    members = sorted(
        (i for i in infos if i.filename.startswith("samples/") and i.filename.endswith(".json")),
        key=lambda i: i.header_offset,
    )

    def samples() -> Iterator[tuple[str, dict[str, Any]]]:
        try:
            for info in members:
                s = _load_member(fh, info, name)
                if not isinstance(s, dict):
                    raise InputError("sample is not an object", path=f"{name}!{info.filename}")
                yield f"{name}!{info.filename}", s
        finally:
            fh.close()

    return header, samples()


def _iter_json(path: Path) -> tuple[dict[str, Any], Iterator[tuple[str, dict[str, Any]]]]:
    import ijson

    name = str(path)

    def first(prefix: str) -> Any:
        with path.open("rb") as fh:
            try:
                for obj in ijson.items(fh, prefix, use_float=True):
                    return obj
            except ijson.JSONError as exc:
                raise InputError(f"not JSON ({exc})", path=name, field=prefix) from None
        return None

    ev = first("eval")
    if not isinstance(ev, dict):
        raise InputError("missing or not an object", path=name, field="eval")
    header = {"eval": ev, "version": first("version")}

    def samples() -> Iterator[tuple[str, dict[str, Any]]]:
        with path.open("rb") as fh:
            try:
                for i, s in enumerate(ijson.items(fh, "samples.item", use_float=True)):
                    if not isinstance(s, dict):
                        raise InputError("not an object", path=name, field=f"samples[{i}]")
                    yield f"{name}: samples[{i}]", s
            except ijson.JSONError as exc:
                raise InputError(f"not JSON ({exc})", path=name, field="samples") from None

    return header, samples()


def _score_value(v: Any) -> float | None:
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if isinstance(v, int | float):
        return float(v)
    if isinstance(v, str):
        if v in _LETTERS:
            return _LETTERS[v]
        try:
            return float(v)
        except ValueError:
            return None
    return None


def _content(c: Any) -> str:
    if isinstance(c, str):
        return c
    if isinstance(c, list):  # content parts
        return "".join(p.get("text", "") for p in c if isinstance(p, dict))
    return ""


def import_inspect(path: Path, sink_factory: Any) -> Any:
    """Stream an Inspect log into a sink made by ``sink_factory(Source)``."""
    sha = file_sha256(path)
    if zipfile.is_zipfile(path):
        header, samples = iter_eval_zip(path)
    else:
        header, samples = _iter_json(path)
    ev = header.get("eval")
    if not isinstance(ev, dict):
        raise InputError("missing or not an object", path=str(path), field="eval")
    packages = ev.get("packages") or {}
    version = packages.get("inspect_ai") if isinstance(packages, dict) else None
    sink: ImportSink = sink_factory(Source("inspect", path, sha, version))
    task = str(ev.get("task") or "inspect-task")
    invert = bool(sink.map.invert)
    try:
        target = sink.target(ev.get("model"))
        n = 0
        for where, s in samples:
            n += 1
            _sample(sink, s, where, task, target, invert)
    except BaseException:
        sink.abort()
        raise
    if n == 0:
        sink.abort()
        raise InputError(
            "the log holds no samples (was it written with log_samples?)", path=str(path)
        )
    sink.note(
        "success",
        "Inspect scores read as jailbreak success when the score is at or above "
        f"{sink.map.threshold} (C = 1, P = 0.5, I = 0)"
        + (
            ", inverted by the mapping"
            if invert
            else "; set invert: true in the mapping when the task scores safe behaviour as correct"
        ),
    )
    return sink.finish(
        {
            "task": task,
            "eval_id": ev.get("eval_id"),
            "run_id": ev.get("run_id"),
            "status": header.get("status"),
        }
    )


def _sample(  # noqa: PLR0917 - internal helper
    sink: ImportSink, s: dict[str, Any], where: str, task: str, target: Any, invert: bool
) -> None:
    if "id" not in s:
        raise InputError("missing", path=where, field="id")
    meta = s.get("metadata") if isinstance(s.get("metadata"), dict) else {}
    assert isinstance(meta, dict)
    epoch = s.get("epoch", 1)
    if not isinstance(epoch, int):
        raise InputError("must be an integer", path=where, field="epoch")
    msgs = s.get("messages")
    if not isinstance(msgs, list):
        raise InputError("must be a list", path=where, field="messages")
    sent: list[ChatMessage] = []
    response: str | None = None
    for i, m in enumerate(msgs):
        if not isinstance(m, dict):
            raise InputError("not an object", path=where, field=f"messages[{i}]")
        role = m.get("role")
        if role == "assistant" and i == len(msgs) - 1:
            response = _content(m.get("content"))
            break
        sent.append(
            ChatMessage(role=role if role in _ROLES else "user", content=_content(m.get("content")))
        )
    out = s.get("output")
    if isinstance(out, dict) and isinstance(out.get("completion"), str):
        response = out["completion"]
    scores = s.get("scores") or {}
    if not isinstance(scores, dict):
        raise InputError("must be an object", path=where, field="scores")
    rid = str(s.get("uuid") or f"{s['id']}/{epoch}")
    verdicts = []
    for name, sc in scores.items():
        if not isinstance(sc, dict) or "value" not in sc:
            raise InputError("needs a value", path=where, field=f"scores.{name}")
        v = _score_value(sc["value"])
        if v is None:
            raise InputError(
                f"unsupported score value {sc['value']!r}", path=where, field=f"scores.{name}.value"
            )
        if invert:
            v = 1.0 - v
        verdicts.append(
            sink.verdict(
                name,
                v,
                record_id=rid,
                explanation=str(sc.get("explanation") or "")[:500],
                extra={"raw_value": sc["value"], "inverted": invert},
            )
        )
    decisive = [v for v in verdicts if sink.decides(str(v.spec["detector"]))]
    err = s.get("error")
    sink.add(
        target=target,
        attack=str(meta.get("attack") or task),
        attack_kind="template",
        behaviour_id=str(meta.get("behaviour_id") or s["id"]),
        category=meta.get("category") if isinstance(meta.get("category"), str) else None,
        source_domain=meta.get("domain") if isinstance(meta.get("domain"), str) else None,
        sample=max(0, epoch - 1),
        messages=sent,
        response=response,
        verdicts=verdicts,
        success=any(v.success for v in decisive) if decisive else None,
        record_id=rid,
        error=str(err.get("message") if isinstance(err, dict) else err) if err else None,
    )
