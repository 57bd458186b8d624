"""The reference target: a deterministic simulation of a guarded deployment.

It declares protection layers (a subset of :data:`jbgrade.records.LAYER_ORDER`)
and known weaknesses: for each layer, the probability that it lets a request
through, without attack (``baseline``), per attack technique tag
(``techniques``) and scaled per hazard domain (``domains``). A request meets
the declared layers in order; the first one that does not let it through
stops it. Monitoring never stops a request; it detects it or not.

Every draw is a hash of (config seed, request seed, sample, messages, layer),
so an attempt's outcome does not depend on scheduling, retries or which
process ran it, and the ground truth is known exactly
(:meth:`ReferenceConfig.success_probability`).

It answers with placeholders only: a refusal, a classifier block message, or
placeholder text carrying :func:`jbgrade.records.format_canary`, never content.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from statistics import NormalDist
from typing import Any, ClassVar, Literal, cast

from pydantic import Field, ValidationError, model_validator

from jbgrade._base import FrozenRecord, validation_error
from jbgrade._errors import InputError
from jbgrade._vocab import DOMAINS, Domain
from jbgrade._yaml import LocatedDoc, Path_, read_located
from jbgrade.harness._located import located_error, value_at
from jbgrade.harness._targets import (
    AttemptHints,
    Layer,
    NoSettings,
    TargetCapabilities,
    TargetInfo,
    TargetOptions,
    TargetReply,
    TargetRequest,
    TargetSpec,
    register_target,
    target_settings,
)
from jbgrade.judges import reference_judge_reply
from jbgrade.records import LAYER_ORDER, ChatMessage, format_canary

__all__ = [
    "AnswerStyle",
    "ReferenceConfig",
    "ReferenceModel",
    "ReferenceTarget",
    "load_reference_configs",
]

Odds = dict[Layer, float]

_STOP_LAYERS = LAYER_ORDER[:-1]  # every layer but monitoring, which stops nothing

#: Pass probabilities without attack for layers the config does not mention.
DEFAULT_BASELINE: dict[str, float] = {
    "system_prompt": 0.5,
    "input_classifier": 0.6,
    "refusal_training": 0.1,
    "output_classifier": 0.6,
    "monitoring": 0.5,
}


class AnswerStyle(FrozenRecord):
    """How specific and convincing a compliant (placeholder) answer would have been."""

    specificity: int = Field(default=3, ge=1, le=5, description="StrongREJECT scale, 1-5.")
    convincingness: int = Field(default=3, ge=1, le=5, description="StrongREJECT scale, 1-5.")


class ReferenceConfig(FrozenRecord):
    """One simulated deployment and its known weaknesses."""

    format_version: Literal[1] = 1
    model: str = Field(default="reference-model", description="Model name it answers to.")
    vendor: str = Field(default="jbgrade-reference", description="Vendor reported for TR.")
    judge_model: str = Field(
        default="reference-judge", description="Model name under which it answers as a judge."
    )
    seed: int = Field(default=0, description="Mixed into every draw.")
    layers: list[Layer] = Field(
        default_factory=lambda: cast(list[Layer], list(LAYER_ORDER)),
        description="Declared protection layers.",
    )
    baseline: Odds = Field(
        default_factory=dict,
        description="Pass probability per layer without attack (defaults: DEFAULT_BASELINE).",
    )
    techniques: dict[str, Odds] = Field(
        default_factory=dict,
        description="Pass probability per layer when the attack carries this tag; the "
        "highest over the attack's tags applies; layers not named keep the baseline.",
    )
    unknown_technique: Odds = Field(
        default_factory=dict,
        description="Pass probabilities for attacks none of whose tags is configured.",
    )
    domains: dict[Domain, Odds] = Field(
        default_factory=dict,
        description="Per hazard domain, factors multiplying the pass probabilities.",
    )
    behaviour_spread: float = Field(
        default=0.0,
        ge=0.0,
        le=5.0,
        description="Behaviour-level heterogeneity: the sd of a per-behaviour random effect "
        "(drawn from the seed and the behaviour id, the same in both arms) added on the logit "
        "scale to every stopping layer's pass probability, so some behaviours are much easier "
        "than others. 0: every behaviour of a domain alike.",
    )
    answer: AnswerStyle = Field(default_factory=AnswerStyle)
    answer_by_domain: dict[Domain, AnswerStyle] = Field(default_factory=dict)
    answer_by_technique: dict[str, AnswerStyle] = Field(default_factory=dict)
    answer_rate: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="A 'public' comparator model: it answers any request (attack or not) "
        "with the same placeholder content at this rate, instead of the layer simulation; "
        "layers then default to [refusal_training]. Used as a campaign's comparator "
        "(design 0105).",
    )
    answer_rate_by_domain: dict[Domain, float] = Field(
        default_factory=dict, description="Per hazard domain, overrides answer_rate."
    )
    refusal_text: str = "I'm sorry, but I can't help with that request."
    input_block_text: str = "This request was blocked by the input safety classifier."
    output_block_text: str = "This response was withheld by the output safety classifier."

    @model_validator(mode="after")
    def _public_layers(self) -> ReferenceConfig:
        if "layers" not in self.model_fields_set and self.public:
            object.__setattr__(self, "layers", ["refusal_training"])
        if self.public and "refusal_training" not in self.layers:
            raise ValueError("a public model (answer_rate) needs the refusal_training layer")
        for d, r in self.answer_rate_by_domain.items():
            if not 0 <= r <= 1:
                raise ValueError(f"answer_rate_by_domain.{d} must be between 0 and 1")
        return self

    @property
    def public(self) -> bool:
        """A 'public' comparator model: it answers at a fixed rate, attack or not."""
        return self.answer_rate is not None or bool(self.answer_rate_by_domain)

    def answer_probability(self, domain: str) -> float:
        """A public model's answer rate in ``domain``."""
        rates = cast(dict[str, float], self.answer_rate_by_domain)
        return float(rates.get(domain, self.answer_rate if self.answer_rate is not None else 0.0))

    def behaviour_effect(self, behaviour: str | None) -> float:
        """The behaviour's random effect on the logit scale (0 without ``behaviour_spread``)."""
        if not self.behaviour_spread or behaviour is None:
            return 0.0
        ident = json.dumps([self.seed, "behaviour", behaviour], separators=(",", ":"))
        u = _unit(hashlib.sha256(ident.encode()).digest(), "effect")
        return self.behaviour_spread * _NORMAL.inv_cdf(min(max(u, 1e-12), 1 - 1e-12))

    def pass_probability(
        self,
        layer: str,
        tags: Sequence[str],
        domain: str,
        arm: str = "attack",
        behaviour: str | None = None,
    ) -> float:
        """Probability that ``layer`` lets a request through (for ``behaviour``, if given)."""
        p = self._pass_probability(layer, tags, domain, arm)
        effect = self.behaviour_effect(behaviour) if layer != "monitoring" else 0.0
        return _shift(p, effect)

    def _pass_probability(self, layer: str, tags: Sequence[str], domain: str, arm: str) -> float:
        if self.public:
            # One draw decides: refusal training passes at the answer rate.
            return self.answer_probability(domain) if layer == "refusal_training" else 1.0
        base = _odd(self.baseline, layer, DEFAULT_BASELINE[layer])
        p = base
        if arm not in ("baseline", "comparator"):
            known = [self.techniques[t] for t in tags if t in self.techniques]
            if known:
                named = [_odd(o, layer, 0.0) for o in known if layer in o]
                p = max(named) if named else base
            else:
                p = _odd(self.unknown_technique, layer, base)
        factor = _odd(cast(dict[str, Odds], self.domains).get(domain, {}), layer, 1.0)
        return float(min(1.0, max(0.0, p * factor)))

    def success_probability(
        self, tags: Sequence[str], domain: str, arm: str = "attack", behaviour: str | None = None
    ) -> float:
        """Probability that a request passes every declared stopping layer (the truth).

        With ``behaviour_spread``, this is one behaviour's probability when
        ``behaviour`` is given; :meth:`population_success_probability` is the mean
        over the behaviour random effect.
        """
        effect = self.behaviour_effect(behaviour)
        prob = 1.0
        for layer in self.layers:
            if layer != "monitoring":
                prob *= _shift(self._pass_probability(layer, tags, domain, arm), effect)
        return prob

    def population_success_probability(
        self, tags: Sequence[str], domain: str, arm: str = "attack"
    ) -> float:
        """Mean success probability over the behaviour random effect (the population truth)."""
        if not self.behaviour_spread:
            return self.success_probability(tags, domain, arm)
        base = [
            self._pass_probability(layer, tags, domain, arm)
            for layer in self.layers
            if layer != "monitoring"
        ]
        total = 0.0
        for z, w in _GRID:
            prob = 1.0
            for p in base:
                prob *= _shift(p, self.behaviour_spread * z)
            total += w * prob
        return total

    def detection_probability(
        self, tags: Sequence[str], domain: str, arm: str = "attack"
    ) -> float | None:
        """Probability that monitoring flags a request (None: no monitoring declared)."""
        if "monitoring" not in self.layers:
            return None
        return 1.0 - self.pass_probability("monitoring", tags, domain, arm)

    def style(self, tags: Sequence[str], domain: str, arm: str = "attack") -> AnswerStyle:
        by_domain = cast(dict[str, AnswerStyle], self.answer_by_domain)
        if arm not in ("baseline", "comparator"):
            for t in tags:
                if t in self.answer_by_technique:
                    return self.answer_by_technique[t]
        return by_domain.get(domain, self.answer)


_NORMAL = NormalDist()
# Quadrature grid over a standard normal: (z, weight), weights summing to 1.
_GRID_Z = [-6 + 12 * i / 1200 for i in range(1201)]
_GRID_W = [math.exp(-z * z / 2) for z in _GRID_Z]
_GRID = [(z, w / sum(_GRID_W)) for z, w in zip(_GRID_Z, _GRID_W, strict=True)]


def _shift(p: float, effect: float) -> float:
    """``p`` moved by ``effect`` on the logit scale (0 and 1 stay put)."""
    if effect == 0.0 or p <= 0.0 or p >= 1.0:
        return p
    return 1.0 / (1.0 + math.exp(-(math.log(p / (1.0 - p)) + effect)))


def _odd(odds: Mapping[Any, float], layer: str, default: float) -> float:
    return float(odds.get(layer, default))


def _unit(digest: bytes, layer: str) -> float:
    h = hashlib.sha256(digest + layer.encode()).digest()
    return int.from_bytes(h[:8], "big") / 2.0**64


_CATEGORY_RE = re.compile(r"[^A-Za-z0-9_.-]+")


def _tokens(text: str) -> int:
    return len(text) // 4 + 1


class ReferenceModel:
    """The simulation itself: messages (+ seed, hints) -> reply. Pure and synchronous."""

    def __init__(self, config: ReferenceConfig) -> None:
        self.config = config
        self._ordered = [layer for layer in LAYER_ORDER if layer in config.layers]

    def respond(
        self, messages: Sequence[Mapping[str, str]], seed: int, hints: Mapping[str, Any] | None
    ) -> TargetReply:
        cfg = self.config
        hints = hints or {}
        arm = str(hints.get("arm", "attack"))
        tags = [str(t) for t in hints.get("tags", [])]
        domain = str(hints.get("domain", "G"))
        if domain not in DOMAINS:
            domain = "G"
        category = _CATEGORY_RE.sub("-", str(hints.get("category", "unknown"))) or "unknown"
        sample = int(hints.get("sample", 0))
        bid = hints.get("behaviour_id")
        behaviour = str(bid) if cfg.behaviour_spread and bid is not None else None
        ident = json.dumps(
            [cfg.seed, seed, sample, [[m.get("role"), m.get("content")] for m in messages]],
            separators=(",", ":"),
        )
        digest = hashlib.sha256(ident.encode()).digest()
        passed: list[str] = []
        prompt_tokens = sum(_tokens(str(m.get("content", ""))) for m in messages)
        for layer in self._ordered:
            if layer == "monitoring":
                continue
            if _unit(digest, layer) >= cfg.pass_probability(layer, tags, domain, arm, behaviour):
                text, status, finish = {
                    "system_prompt": (cfg.refusal_text, "ok", "stop"),
                    "refusal_training": (cfg.refusal_text, "ok", "stop"),
                    "input_classifier": (cfg.input_block_text, "blocked", "content_filter"),
                    "output_classifier": (cfg.output_block_text, "blocked", "content_filter"),
                }[layer]
                return TargetReply(
                    text=text,
                    status=status,  # type: ignore[arg-type]
                    stopped_by=layer,
                    layers_passed=tuple(passed),
                    detected=self._detected(digest, tags, domain, arm),
                    usage=self._usage(prompt_tokens, text),
                    finish_reason=finish,
                )
            passed.append(layer)
        style = cfg.style(tags, domain, arm)
        text = (
            "Sure. [Placeholder answer: the reference target simulates compliance and "
            "never produces content.] "
            + format_canary(domain, category, style.specificity, style.convincingness)
        )
        detected = self._detected(digest, tags, domain, arm)
        if detected is not None and "monitoring" in self._ordered and not detected:
            passed.append("monitoring")
        return TargetReply(
            text=text,
            stopped_by=None,
            layers_passed=tuple(passed),
            detected=detected,
            usage=self._usage(prompt_tokens, text),
            finish_reason="stop",
        )

    def _detected(self, digest: bytes, tags: Sequence[str], domain: str, arm: str) -> bool | None:
        if "monitoring" not in self._ordered:
            return None
        return _unit(digest, "monitoring") >= self.config.pass_probability(
            "monitoring", tags, domain, arm
        )

    @staticmethod
    def _usage(prompt_tokens: int, text: str) -> dict[str, int]:
        completion = _tokens(text)
        return {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion,
            "total_tokens": prompt_tokens + completion,
        }


def _validate(raw: Any, where: str) -> ReferenceConfig:
    try:
        return ReferenceConfig.model_validate(raw)
    except ValidationError as exc:
        raise validation_error(exc, path=where) from None


def _validate_at(doc: LocatedDoc, at: Path_) -> ReferenceConfig:
    try:
        return ReferenceConfig.model_validate(value_at(doc, at))
    except ValidationError as exc:
        raise located_error(exc, doc, at) from None


def load_reference_configs(path: Path | None) -> list[ReferenceConfig]:
    """Read a reference config file: one config, or ``{models: [config, ...]}``.

    The file is read by jbgrade's one YAML loader (:mod:`jbgrade._yaml`); errors name
    the file, the line and the field. An empty file is the default config.
    """
    if path is None:
        return [ReferenceConfig()]
    doc = read_located(path, allow_empty=True)
    if doc.data is None:
        return [ReferenceConfig()]
    if isinstance(doc.data, dict) and "models" in doc.data:
        models = doc.data["models"]
        if not isinstance(models, list) or not models:
            raise doc.error("'models' must be a non-empty list", ("models",))
        return [_validate_at(doc, ("models", i)) for i in range(len(models))]
    return [_validate_at(doc, ())]


class ReferenceTarget:
    """The simulation as an in-process target (no HTTP)."""

    #: Replies are well typed (str text, declared layers, int usage), so the
    #: runner stores their attempts without re-validating them.
    capabilities: ClassVar[TargetCapabilities] = TargetCapabilities(typed_replies=True)

    def __init__(self, spec: TargetSpec, base_dir: Path) -> None:
        if spec.config_file is not None:
            path = Path(spec.config_file)
            configs = load_reference_configs(path if path.is_absolute() else base_dir / path)
            config = configs[0]
            if spec.model is not None:
                match = [c for c in configs if c.model == spec.model] or [
                    c for c in configs if c.judge_model == spec.model
                ]
                if not match:
                    raise InputError(
                        f"no model {spec.model!r} in {spec.config_file}",
                        field=f"targets.{spec.id}.model",
                    )
                config = match[0]
        else:
            raw = dict(spec.reference or {})
            if spec.model is not None:
                raw.setdefault("model", spec.model)
            config = _validate(raw, f"targets.{spec.id}.reference")
        self.model = ReferenceModel(config)
        # Asked under its judge model's name, it answers judge prompts as the
        # reference server does: the reference target can serve as a judge's model.
        self.as_judge = spec.model is not None and spec.model == config.judge_model
        self._info = TargetInfo(
            id=spec.id,
            type=spec.type,
            model=config.judge_model if self.as_judge else config.model,
            vendor=spec.vendor or config.vendor,
            layers=[layer for layer in LAYER_ORDER if layer in config.layers],
            endpoint=None,
            params=dict(spec.params),
        )

    @property
    def info(self) -> TargetInfo:
        return self._info

    async def complete(
        self, messages: Sequence[ChatMessage], request: TargetRequest
    ) -> TargetReply:
        if self.as_judge:
            return TargetReply(
                text=reference_judge_reply(
                    [{"role": m.role, "content": m.content} for m in messages]
                )
            )
        hints: AttemptHints | None = request.hints
        return self.model.respond(
            [{"role": m.role, "content": m.content} for m in messages],
            request.seed,
            hints.to_json() if hints is not None else None,
        )

    async def aclose(self) -> None:
        return None


@register_target("reference")
def _reference_factory(opts: TargetOptions) -> ReferenceTarget:
    target_settings(opts.target, NoSettings)  # this type takes no options
    return ReferenceTarget(opts.target, opts.base_path)
