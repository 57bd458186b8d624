"""The campaign spec: YAML, validated by pydantic, published as a JSON Schema.

Errors name the file, the line and the field (``spec.yaml:12: limits.concurrency:
...``): the YAML is composed into nodes first so every pydantic error location
maps back to a line.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from jbgrade._errors import CampaignSpecError
from jbgrade.harness._attacks import AttackSpec
from jbgrade.harness._targets import TargetSpec

__all__ = [
    "AttackRef",
    "BehaviourRef",
    "Budget",
    "CampaignSpec",
    "Limits",
    "campaign_schema",
    "load_spec",
    "parse_spec",
    "spec_hash",
]

SPEC_VERSION = 1


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Budget(_Spec):
    """Caps that stop a campaign cleanly when reached (None: no cap)."""

    requests: int | None = Field(
        default=None, ge=1, description="Target requests, retries and multi-turn turns included."
    )
    tokens: int | None = Field(
        default=None, ge=1, description="Target tokens (prompt + completion) as reported."
    )


class Limits(_Spec):
    """How hard to push the targets. Not part of the campaign's identity: a run can
    be resumed with other limits."""

    concurrency: int = Field(default=16, ge=1, le=4096, description="Attempts in flight.")
    requests_per_s: float | None = Field(
        default=None, gt=0, description="Per target; None: unlimited."
    )
    tokens_per_min: float | None = Field(
        default=None, gt=0, description="Per target, from reported usage; None: unlimited."
    )
    timeout_s: float = Field(default=60.0, gt=0, description="Per request.")
    retries: int = Field(
        default=4, ge=0, le=50, description="Retries per request on timeouts, 408, 429, 5xx."
    )
    backoff_s: float = Field(
        default=0.5, ge=0, description="First backoff; doubles per retry, jittered."
    )
    max_backoff_s: float = Field(
        default=60.0, ge=0, description="Longest single wait, Retry-After included."
    )
    budget: Budget = Field(default_factory=Budget)


class AttackRef(_Spec):
    """An attack: a bundled name or YAML file (``ref``), a plug-in, or inline YAML."""

    ref: str | None = Field(default=None, description="Bundled attack name or YAML path.")
    plugin: str | None = Field(default=None, description="Registered attack plug-in name.")
    options: dict[str, Any] = Field(default_factory=dict, description="Plug-in options.")
    inline: dict[str, Any] | None = Field(
        default=None, description="An attack declared inline (same fields as an attack file)."
    )

    @model_validator(mode="after")
    def _one(self) -> AttackRef:
        given = [x for x in (self.ref, self.plugin, self.inline) if x is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of ref, plugin or inline")
        return self


class BehaviourRef(_Spec):
    """A behaviour set: a named set (``canary``) or a file, optionally filtered."""

    source: str = Field(description="Set name (e.g. 'canary', 'advbench') or file path.")
    format: str | None = Field(default=None, description="File format when not detected.")
    domains: list[Literal["G", "S", "W", "C"]] | None = Field(
        default=None, description="Keep only these hazard domains."
    )
    ids: list[str] | None = Field(default=None, description="Keep only these behaviour ids.")
    limit: int | None = Field(default=None, ge=1, description="Keep the first N (after filters).")


class CampaignSpec(_Spec):
    """targets x (baseline + attacks) x behaviours x samples x seeds, judged."""

    version: Literal[1] = Field(default=1, description="Spec format version.")
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", description="Campaign name.")
    description: str = ""
    seeds: list[int] = Field(
        default_factory=lambda: [0], min_length=1, description="Each seed repeats the grid."
    )
    samples: int = Field(default=1, ge=1, le=10_000, description="Samples per behaviour.")
    targets: list[TargetSpec] = Field(min_length=1)
    attacks: list[AttackRef] = Field(
        min_length=1, description="The jailbreak(s) under test; the baseline arm is added."
    )
    behaviours: list[BehaviourRef] = Field(min_length=1)
    judges: list[dict[str, Any]] = Field(
        default_factory=lambda: [{"type": "refusal"}],
        min_length=1,
        description="Judge specs ({type: ..., ...}), see jbgrade.judges.",
    )
    combine: Literal["all", "any", "majority", "gated"] = Field(
        default="all", description="How several judges' verdicts combine into success."
    )
    baseline: Literal[True] = Field(
        default=True, description="The no-attack baseline arm always runs."
    )
    limits: Limits = Field(default_factory=Limits)

    @model_validator(mode="before")
    @classmethod
    def _seed_alias(cls, data: Any) -> Any:
        if isinstance(data, dict) and "seed" in data:
            data = dict(data)
            if "seeds" in data:
                raise ValueError("give 'seed' or 'seeds', not both")
            data["seeds"] = [data.pop("seed")]
        return data

    @field_validator("attacks", mode="before")
    @classmethod
    def _attack_shorthand(cls, v: Any) -> Any:
        if not isinstance(v, list):
            return v
        out: list[Any] = []
        for item in v:
            if isinstance(item, str):
                out.append({"ref": item})
            elif isinstance(item, dict) and not ({"ref", "plugin", "inline"} & set(item)):
                out.append({"inline": item})
            else:
                out.append(item)
        return out

    @field_validator("behaviours", mode="before")
    @classmethod
    def _behaviour_shorthand(cls, v: Any) -> Any:
        if not isinstance(v, list):
            return v
        return [{"source": x} if isinstance(x, str) else x for x in v]

    @model_validator(mode="after")
    def _unique(self) -> CampaignSpec:
        ids = [t.id for t in self.targets]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"duplicate target id {dup[0]!r}")
        return self

    def identity(self) -> dict[str, Any]:
        """What defines the attempt set and its meaning. Limits and where endpoints
        live (URLs, key variables, headers) are left out: a campaign may resume
        with other limits or against a moved endpoint."""
        data = self.model_dump(mode="json", exclude={"limits", "description"})
        for t in data["targets"]:
            for k in (
                "concurrency",
                "requests_per_s",
                "tokens_per_min",
                "headers",
                "base_url",
                "api_key_env",
            ):
                t.pop(k, None)
        for j in data["judges"]:
            for k in ("base_url", "api_key_env", "timeout_s", "max_retries"):
                j.pop(k, None)
        return data


def spec_hash(identity: dict[str, Any]) -> str:
    return hashlib.sha256(
        json.dumps(identity, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()


def campaign_schema() -> dict[str, Any]:
    """The published JSON Schema of the campaign spec."""
    schema = CampaignSpec.model_json_schema()
    # The YAML shorthands the validators accept are part of the format.
    props = schema["properties"]
    props["seed"] = {"type": "integer", "description": "Shorthand for seeds: [seed]."}
    props["attacks"]["items"] = {
        "anyOf": [
            {"type": "string", "description": "Bundled attack name, YAML file or plug-in name."},
            {"$ref": "#/$defs/AttackRef"},
            {"$ref": "#/$defs/AttackSpec"},
        ]
    }
    props["behaviours"]["items"] = {
        "anyOf": [
            {"type": "string", "description": "Behaviour set name or file."},
            {"$ref": "#/$defs/BehaviourRef"},
        ]
    }
    schema["$defs"]["AttackSpec"] = AttackSpec.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://jbgrade.org/schema/campaign-1.json"
    schema["title"] = "jbgrade campaign spec"
    return schema


# ------------------------------------------------------------ line numbers


def _line_of(node: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """The 1-based line of the deepest node ``loc`` reaches."""
    if node is None:
        return None
    line = node.start_mark.line + 1
    for part in loc:
        nxt: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.value == str(part):
                    nxt = v
                    line = k.start_mark.line + 1
                    break
            if nxt is None and part in ("ref", "inline", "source") and isinstance(part, str):
                continue  # shorthand forms
        elif (
            isinstance(node, yaml.SequenceNode)
            and isinstance(part, int)
            and 0 <= part < len(node.value)
        ):
            nxt = node.value[part]
        if nxt is None:
            if isinstance(part, str) and not part.isidentifier():
                continue  # pydantic's union tags, e.g. 'function-after[...]'
            break
        node = nxt
        line = node.start_mark.line + 1
    return line


def _field(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for p in loc:
        if isinstance(p, int):
            parts.append(f"[{p}]")
        elif p.isidentifier():
            parts.append(("." if parts else "") + p)
    return "".join(parts) or "(top level)"


_ENV_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def _expand_env(text: str, where: str) -> str:
    """``${NAME}`` and ``${NAME:-default}`` from the environment (lines are kept)."""

    def repl(m: re.Match[str]) -> str:
        value = os.environ.get(m[1])
        if value is None:
            if m[2] is None:
                line = text.count("\n", 0, m.start()) + 1
                raise CampaignSpecError(
                    f"environment variable {m[1]} is not set", path=where, line=line
                )
            value = m[2]
        return value

    return _ENV_RE.sub(repl, text)


def parse_spec(text: str, where: str = "<spec>") -> CampaignSpec:
    """Parse and validate a campaign spec; errors name file, line and field.

    ``${NAME}`` / ``${NAME:-default}`` are replaced from the environment first.
    """
    text = _expand_env(text, where)
    try:
        node = yaml.compose(text)
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise CampaignSpecError(
            f"not valid YAML: {getattr(exc, 'problem', None) or exc}",
            path=where,
            line=None if mark is None else mark.line + 1,
        ) from None
    if not isinstance(raw, dict):
        raise CampaignSpecError("a campaign spec must be a mapping", path=where, line=1)
    try:
        return CampaignSpec.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown field"
        raise CampaignSpecError(
            msg, path=where, line=_line_of(node, loc), field=_field(loc)
        ) from None


def load_spec(path: Path) -> CampaignSpec:
    """Read and validate a campaign spec file."""
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        raise CampaignSpecError("no such file", path=str(path)) from None
    except UnicodeDecodeError:
        raise CampaignSpecError("not UTF-8 text", path=str(path)) from None
    return parse_spec(text, str(path))
