"""Versioned records shared across layers: behaviours, judge verdicts, attempts.

They sit low in the layer stack (above the rubric only) so that judges,
evidence, harness, registry and reports can all speak them without depending
on each other. Each record carries ``format_version``; it changes when the
format does.
"""

from jbgrade.records._canonical import canonical_json, canonical_sha256
from jbgrade.records._records import (
    CANARY_RE,
    DOMAINS,
    LAYER_ORDER,
    Attempt,
    Behaviour,
    ChatMessage,
    Verdict,
    attempt_key,
    format_canary,
    parse_canary,
)

__all__ = [
    "CANARY_RE",
    "DOMAINS",
    "LAYER_ORDER",
    "Attempt",
    "Behaviour",
    "ChatMessage",
    "Verdict",
    "attempt_key",
    "canonical_json",
    "canonical_sha256",
    "format_canary",
    "parse_canary",
]
