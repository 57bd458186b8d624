"""The campaign spec: YAML, validated by pydantic, published as a JSON Schema.

Errors name the file, the line and the field (``spec.yaml:12: limits.concurrency:
...``): the YAML is read by jbgrade's one loader (:mod:`jbgrade._yaml`, YAML 1.2
scalars, duplicate keys refused), which keeps the line of every path, so every
pydantic error location maps back to a line. A case file's inline ``campaign.spec``
is validated by the same function (:func:`spec_from_doc`).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from jbgrade._base import FrozenRecord as _Spec
from jbgrade._base import JsonObject
from jbgrade._errors import CampaignSpecError, InputError
from jbgrade._vocab import Domain
from jbgrade._yaml import MAX_YAML_BYTES, LocatedDoc, Path_, load_located, read_text_limited
from jbgrade.harness._attacks import AttackSpec, attack_from_doc
from jbgrade.harness._located import located_error, value_at
from jbgrade.harness._targets import TargetSpec
from jbgrade.judges import MEASURED_ERROR_KEY, MeasuredError
from jbgrade.records import canonical_sha256

__all__ = [
    "AttackRef",
    "BehaviourRef",
    "Budget",
    "CampaignSpec",
    "Limits",
    "campaign_schema",
    "load_spec",
    "parse_spec",
    "spec_from_doc",
    "spec_hash",
]

SPEC_VERSION = 1
#: The default judge of a campaign spec.
_REFUSAL_JUDGE: JsonObject = {"type": "refusal"}


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
    options: JsonObject = Field(default_factory=dict, description="Plug-in options.")
    inline: JsonObject | None = Field(
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
    domains: list[Domain] | None = Field(
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
    comparators: list[TargetSpec] = Field(
        default_factory=list,
        description="Comparator targets (typically publicly available models, any target "
        "type): asked the same behaviours without the attack (the baseline prompts), same "
        "samples and judges, stored as the 'comparator' arm; the evidence measures the "
        "capability gain of each attack over the best of them (design 0105).",
    )
    attacks: list[AttackRef] = Field(
        min_length=1, description="The jailbreak(s) under test; the baseline arm is added."
    )
    behaviours: list[BehaviourRef] = Field(min_length=1)
    judges: list[JsonObject] = Field(
        default_factory=lambda: [_REFUSAL_JUDGE.copy()],
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

    @field_validator("judges", mode="after")
    @classmethod
    def _measured_error(cls, v: list[JsonObject]) -> list[JsonObject]:
        # A judge's measured error (design 0110) is checked here, so a bad figure
        # is reported with its line before anything runs.
        for j in v:
            if j.get(MEASURED_ERROR_KEY) is not None:
                MeasuredError.model_validate(j[MEASURED_ERROR_KEY])
        return v

    @model_validator(mode="after")
    def _unique(self) -> CampaignSpec:
        ids = [t.id for t in self.targets]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"duplicate target id {dup[0]!r}")
        cids = [t.id for t in self.comparators]
        dup = sorted({i for i in cids if cids.count(i) > 1 or i in ids})
        if dup:
            raise ValueError(f"duplicate target or comparator id {dup[0]!r}")
        return self

    @property
    def senders(self) -> list[TargetSpec]:
        """Every endpoint the campaign sends to: the targets, then the comparators.

        Limits (pacing, tokens/min, concurrency) are kept per entry of this list."""
        return [*self.targets, *self.comparators]

    def identity(self) -> dict[str, Any]:
        """What defines the attempt set and its meaning. Limits and where endpoints
        live (URLs, key variables, headers) are left out: a campaign may resume
        with other limits or against a moved endpoint."""
        data = self.model_dump(mode="json", exclude={"limits", "description"})
        # A spec without comparators keeps the identity (and campaign id) it had
        # before the key existed.
        if not data.get("comparators"):
            data.pop("comparators", None)
        for t in [*data["targets"], *data.get("comparators", [])]:
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
            # measured_error describes the judge; it changes no attempt (design 0110).
            for k in ("base_url", "api_key_env", "timeout_s", "max_retries", MEASURED_ERROR_KEY):
                j.pop(k, None)
        return data


def spec_hash(identity: dict[str, Any]) -> str:
    """SHA-256 of the RFC 8785 canonical JSON of a spec's identity (see ``canonical_sha256``).

    The identity is the spec without what may change between runs of one
    campaign (limits, transport settings) plus the attacks and behaviour sets
    it resolved to; a manifest's ``spec_hash`` and a report's
    ``campaign.spec_sha256`` are both this value.
    """
    return canonical_sha256(identity)


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
    schema["$defs"]["MeasuredError"] = MeasuredError.model_json_schema()
    props["judges"]["items"] = {
        "type": "object",
        "required": ["type"],
        "properties": {
            "type": {"type": "string", "description": "Judge type (jbgrade judge types)."},
            MEASURED_ERROR_KEY: {
                "$ref": "#/$defs/MeasuredError",
                "description": "The judge's measured error; evidence corrects rates for it "
                "(design 0110).",
            },
        },
        "additionalProperties": True,
    }
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://jbgrade.org/schema/campaign-1.json"
    schema["title"] = "jbgrade campaign spec"
    return schema


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

    ``${NAME}`` / ``${NAME:-default}`` are replaced from the environment first,
    then the text is read by jbgrade's one YAML loader (:mod:`jbgrade._yaml`).
    """
    text = _expand_env(text, where)
    return spec_from_doc(load_located(text, where, cls=CampaignSpecError))


def spec_from_doc(
    doc: LocatedDoc, at: Path_ = (), *, cls: type[InputError] = CampaignSpecError
) -> CampaignSpec:
    """Validate the campaign spec at ``at`` in a YAML document: a spec file (``at``
    empty) or a case file's ``campaign.spec``. Both go through here, so a spec means
    the same inline and in its own file; errors are ``cls`` naming file, line and
    field (inline attacks included)."""
    raw = value_at(doc, at)
    if not isinstance(raw, dict):
        raise doc.error("a campaign spec must be a mapping", at, cls=cls)
    try:
        spec = CampaignSpec.model_validate(raw)
    except ValidationError as exc:
        raise located_error(exc, doc, at, cls=cls, skip=_SHORTHAND_KEYS) from None
    # Inline attacks are checked now, where their lines are known, not mid-plan.
    items = raw.get("attacks")
    for i, ref in enumerate(spec.attacks):
        if ref.inline is not None and isinstance(items, list):
            item = items[i]
            where = (*at, "attacks", i, *(("inline",) if "inline" in item else ()))
            attack_from_doc(doc, where, cls=cls)
    return spec


#: Keys a shorthand implies (``- roleplay`` is ``{ref: roleplay}``): absent from the file.
_SHORTHAND_KEYS = frozenset({"ref", "inline", "source"})


def load_spec(path: Path) -> CampaignSpec:
    """Read and validate a campaign spec file."""
    text = read_text_limited(path, max_bytes=MAX_YAML_BYTES, cls=CampaignSpecError)
    return parse_spec(text, str(path))
