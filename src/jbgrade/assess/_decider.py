"""The narrow view of the policy engine that assessments and disputes need.

Disputes evaluate thousands of hypothetical grades under each profile, so the
engine is reached through one small protocol and results are reduced to what
a dispute compares: the action and the set of obligations.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from jbgrade.policy import ACTIONS, Decision
from jbgrade.rubric import Grade

__all__ = ["ACTIONS", "Decider", "Outcome", "action_order", "outcome_of"]


def action_order(action: str) -> int:
    """Position in :data:`ACTIONS`, weakest first; an unknown action ranks above them all."""
    return ACTIONS.index(action) if action in ACTIONS else len(ACTIONS)


class Decider(Protocol):
    """Decides a grade under named policy profiles."""

    def profiles(self) -> Sequence[str]:
        """Every profile this decider knows, in display order."""
        ...

    def title(self, profile: str) -> str:
        """A profile's human title."""
        ...

    def decide(
        self, profile: str, grade: Grade, context: Mapping[str, Any], aware_on: date
    ) -> Decision:
        """The decision (its published JSON is ``Decision.to_dict()``)."""
        ...

    def outcome(
        self, profile: str, grade: Grade, context: Mapping[str, Any], aware_on: date
    ) -> Outcome:
        """Only what a dispute compares (may be much cheaper than :meth:`decide`)."""
        ...


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a dispute compares of a decision."""

    action: str
    obligations: frozenset[tuple[str, str, str]]  # (party, what, due)

    @property
    def rank(self) -> int:
        return action_order(self.action)


def outcome_of(decision: Decision) -> Outcome:
    """What a dispute compares of a decision."""
    obs = frozenset((o.party, o.what, o.due.isoformat()) for o in decision.obligations)
    return Outcome(decision.action, obs)
