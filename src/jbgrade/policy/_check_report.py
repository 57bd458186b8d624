"""The result records of ``policy check``: findings and the per-profile report."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["CheckReport", "Finding", "context_text"]


@dataclass(frozen=True, slots=True)
class Finding:
    """One violation: which check, where (file:line, rule), and an example."""

    check: str  # coverage | monotonicity | reachability | shadowing | domains
    message: str
    source: str
    line: int | None
    rule: str | None = None
    example: dict[str, Any] | None = None

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else self.source
        rule = f" rule {self.rule}:" if self.rule else ""
        return f"{where}: {self.check}:{rule} {self.message}{self.example_text()}"

    def example_text(self) -> str:
        ex = self.example or {}
        if "raised" in ex:
            s = f" (e.g. {ex['vector']} -> {ex['raised']}"
        elif "vector" in ex and self.check != "coverage":
            s = f" (e.g. {ex['vector']}"
        else:
            return ""
        if ex.get("context"):
            s += f" in context {context_text(ex['context'])}"
        return s + ")"

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "source": self.source,
            "line": self.line,
            "rule": self.rule,
            "message": self.message,
            "example": self.example,
        }


@dataclass(slots=True)
class CheckReport:
    """Result of checking one profile."""

    profile: str
    version: str
    source: str
    bundle_sha256: str
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.findings

    def to_dict(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "version": self.version,
            "source": self.source,
            "bundle_sha256": self.bundle_sha256,
            "ok": self.ok,
            "findings": [f.to_dict() for f in self.findings],
            "notes": self.notes,
            "stats": self.stats,
            "seconds": round(self.seconds, 3),
        }


def context_text(values: dict[str, Any]) -> str:
    """A context as people read it in findings: ``{field=value, ...}``."""
    if not values:
        return "{}"
    return (
        "{"
        + ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items())
        + "}"
    )
