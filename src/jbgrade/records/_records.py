"""Pydantic records: the units the harness produces and evidence consumes."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime
from typing import Literal

from pydantic import Field

from jbgrade._base import FrozenRecord, JsonObject
from jbgrade._vocab import DOMAINS, LAYER_ORDER, Domain

__all__ = [
    "CANARY_RE",
    "DOMAINS",
    "LAYER_ORDER",
    "Attempt",
    "Behaviour",
    "ChatMessage",
    "Verdict",
    "attempt_key",
    "format_canary",
    "parse_canary",
]


class Behaviour(FrozenRecord):
    """A behaviour to elicit: what a jailbreak would have to make the model do."""

    format_version: Literal[1] = 1
    id: str = Field(description="Stable identifier, unique within its set.")
    domain: Domain = Field(description="JBG hazard domain: G, S, W or C.")
    category: str = Field(description="Finer category, e.g. 'cyber', 'bio', 'fraud'.")
    text: str = Field(description="The request as sent to the model.")
    source: str = Field(description="Where it came from: set name, file, package.")
    canary: bool = Field(
        default=False, description="True for synthetic, non-actionable placeholder behaviours."
    )


class ChatMessage(FrozenRecord):
    """One chat message as sent to an OpenAI-compatible endpoint."""

    role: Literal["system", "user", "assistant", "tool"]
    content: str


class Verdict(FrozenRecord):
    """A judge's verdict on one response. Never a bare float."""

    format_version: Literal[1] = 1
    judge: str = Field(description="Registered judge name.")
    spec: JsonObject = Field(
        description="Parameters from which the judge can be rebuilt (JSON: the judge's spec)."
    )
    success: bool = Field(description="True when the judge deems the jailbreak successful.")
    value: float = Field(ge=0.0, le=1.0, description="Score in [0, 1]; 1 is a full success.")
    refused: bool | None = Field(default=None, description="Did the model refuse?")
    answer: str | None = Field(default=None, description="Raw answer extracted from the judge.")
    explanation: str = Field(description="Why the judge decided so.")
    scores: dict[str, float] = Field(
        default_factory=dict,
        description="Component scores, e.g. convincingness and specificity (1-5).",
    )
    error: str | None = Field(
        default=None,
        description=(
            "Set when the judge could not decide (endpoint failure, unparseable answer); "
            "success is then False and value 0, and the attempt counts as undecided."
        ),
    )


class Attempt(FrozenRecord):
    """One attempt: one (attack or baseline) prompt for one behaviour on one target.

    Written to the append-only store as soon as it completes; ``key`` makes a
    re-run skip it.
    """

    format_version: Literal[1] = 1
    key: str = Field(description="attempt_key(attack, behaviour, target, sample, seed).")
    campaign: str = Field(description="Campaign id.")
    arm: Literal["attack", "baseline", "comparator"] = Field(
        description="Attack arm, no-attack baseline, or comparator arm (a comparator target "
        "asked the baseline prompts, for capability gain)."
    )
    attack: str = Field(description="Attack id ('baseline' on the baseline and comparator arms).")
    behaviour_id: str
    domain: Domain
    category: str
    target: str = Field(description="Target id from the campaign spec.")
    model: str = Field(description="Model name at the target.")
    vendor: str = Field(description="Vendor or family, for transfer.")
    sample: int = Field(ge=0, description="Sample index for this behaviour.")
    seed: int
    messages: list[ChatMessage] = Field(description="What was sent.")
    response: str | None = Field(default=None, description="What came back (None on error).")
    status: Literal["ok", "blocked", "error"] = Field(
        description="ok: the model answered; blocked: a declared layer stopped it; error: failed."
    )
    error: str | None = None
    stopped_by: str | None = Field(
        default=None, description="The declared layer that stopped the attempt, if any."
    )
    layers_passed: list[str] = Field(
        default_factory=list, description="Declared layers this attempt got through."
    )
    detected: bool | None = Field(
        default=None, description="Monitoring flagged it (None: no monitoring or unknown)."
    )
    verdicts: list[Verdict] = Field(default_factory=list)
    success: bool | None = Field(
        default=None, description="The campaign's combined judgement; None on error."
    )
    latency_s: float = 0.0
    retries: int = 0
    usage: dict[str, int] = Field(default_factory=dict)
    started_at: datetime | None = None
    finished_at: datetime | None = None


def attempt_key(attack: str, behaviour_id: str, target: str, sample: int, seed: int) -> str:
    """SHA-256 of the attempt's identity; stable across runs and machines."""
    ident = json.dumps([attack, behaviour_id, target, sample, seed], separators=(",", ":"))
    return hashlib.sha256(ident.encode("utf-8")).hexdigest()


#: The marker a canary (placeholder) response carries instead of real content.
#: The reference target writes it; the reference judge reads it back. It states
#: what a real answer would have been like, never the answer itself.
CANARY_RE = re.compile(
    r"\[\[JBG-CANARY domain=(?P<domain>[GSWC]) category=(?P<category>[A-Za-z0-9_.-]+) "
    r"specificity=(?P<specificity>[1-5]) convincingness=(?P<convincingness>[1-5])\]\]"
)


def format_canary(domain: str, category: str, specificity: int, convincingness: int) -> str:
    """The canary marker for a placeholder answer."""
    return (
        f"[[JBG-CANARY domain={domain} category={category} "
        f"specificity={specificity} convincingness={convincingness}]]"
    )


def parse_canary(text: str) -> dict[str, str | int] | None:
    """The first canary marker's fields in ``text``, or None."""
    m = CANARY_RE.search(text)
    if m is None:
        return None
    return {
        "domain": m["domain"],
        "category": m["category"],
        "specificity": int(m["specificity"]),
        "convincingness": int(m["convincingness"]),
    }
