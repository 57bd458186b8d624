"""The policy engine behind the :class:`~jbgrade.assess.Decider` protocol."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from jbgrade.assess._decider import Outcome
from jbgrade.policy import Decision, Profile, decide, list_profiles, load_profile
from jbgrade.rubric import Grade

__all__ = ["PolicyDecider"]


class PolicyDecider:
    """Decides with jbgrade's policy profiles (shipped names or profile files).

    Each profile sees only the context fields it declares, so facts meant for
    one profile (say, a jurisdiction list) never trip another; missing fields
    take the profile's precautionary default and the decision says so.
    """

    def __init__(self, profiles: Sequence[str | Path] | None = None) -> None:
        refs = list(profiles) if profiles is not None else list_profiles()
        self._profiles: dict[str, Profile] = {}
        for ref in refs:
            prof = load_profile(ref)
            self._profiles[prof.id] = prof

    def profiles(self) -> Sequence[str]:
        return list(self._profiles)

    def title(self, profile: str) -> str:
        return self._profiles[profile].title

    def profile(self, profile: str) -> Profile:
        return self._profiles[profile]

    def _ctx(self, prof: Profile, context: Mapping[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in context.items() if k in prof.context}

    def decide(
        self, profile: str, grade: Grade, context: Mapping[str, Any], aware_on: date
    ) -> Decision:
        prof = self._profiles[profile]
        return decide(grade, self._ctx(prof, context), prof, aware_on=aware_on)

    def outcome(
        self, profile: str, grade: Grade, context: Mapping[str, Any], aware_on: date
    ) -> Outcome:
        prof = self._profiles[profile]
        d = decide(grade, self._ctx(prof, context), prof, aware_on=aware_on)
        return Outcome(
            d.action, frozenset((o.party, o.what, o.due.isoformat()) for o in d.obligations)
        )
