"""The Decision record and its parts (versioned pydantic models).

The published JSON form (:meth:`Decision.to_dict`, ``jbgrade decide --json``,
``decision.schema.json``) has exactly the keys ``action, obligations,
fired_rules, near_misses, provisional, profile, profile_version,
bundle_sha256``. The Python model also carries the inputs (vector, context,
dates) so that a decision can be replayed and compared.

Lazy explanation: :func:`jbgrade.decide` computes the action, obligations and
``provisional`` at once and the explanation (``fired_rules``, ``near_misses``)
on first use. It returns an instance of a private subclass of :class:`Decision`
that holds what it needs to explain itself; reading either field, or anything
that reads the record as a whole (comparison, copy, pickle, repr, iteration and
every pydantic serialisation, nested ones included: they all read ``__dict__``)
fills both fields and turns the instance into a plain :class:`Decision`. Until
then only ``type(d) is Decision`` tells the difference. See
docs/design/0010-policy-engine.md, "Lazy explanation".
"""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

from jbgrade._base import FrozenRecord
from jbgrade._vocab import Action

__all__ = [
    "DECISION_FORMAT_VERSION",
    "DECISION_KEYS",
    "Action",
    "Change",
    "Condition",
    "Decision",
    "DecisionDelta",
    "Explainer",
    "FiredRule",
    "NearMiss",
    "Obligation",
    "RuleCitation",
    "lazy_decision",
]

#: Bumped whenever the Decision format changes.
DECISION_FORMAT_VERSION = 1

#: The published top-level keys of a decision, in order.
DECISION_KEYS = (
    "action",
    "obligations",
    "fired_rules",
    "near_misses",
    "provisional",
    "profile",
    "profile_version",
    "bundle_sha256",
)


#: A value a condition tests or a change sets: a metric letter, criterion level,
#: severity, score, flag, context value (an enum string or a number) or a date.
InputValue = bool | int | float | str

#: A context value as the engine uses it: an enum string or a number.
ContextValue = str | float


class Condition(FrozenRecord):
    """One tested condition and the actual value it was tested against."""

    model_config = ConfigDict(populate_by_name=True)

    on: str = Field(
        description="The input: severity, score, systemic, provisional, a criterion (BP/EC/RI), "
        "a metric key, context.NAME or aware_on."
    )
    test: str = Field(description="The test as written in the profile, e.g. 'at_least High'.")
    actual: InputValue = Field(
        description="The value the test was evaluated on (X resolved to worst)."
    )
    holds: bool = Field(default=True, description="Whether the test held.")
    given: str | None = Field(
        default=None, description="The value as given when it differs from 'actual' (e.g. 'X')."
    )
    assumed: bool = Field(
        default=False, description="True when the value is a precautionary default, not given."
    )
    reason: str | None = Field(
        default=None, description="Why the assumed or resolved value was used."
    )


class RuleCitation(FrozenRecord):
    """Where a fired rule, near miss or obligation comes from, as a decision publishes it.

    Either ``{"illustrative": true}`` (no official text: our own illustration), or the
    declared source with its title and, where the profile gives them, section,
    ``unconfirmed``, ``mapping: "illustrative"`` (official text, our mapping to it) and a
    note; gates and assumptions carry an empty citation (``{}``). Absent keys are left
    out of the JSON, never written as null.
    """

    model_config = ConfigDict(populate_by_name=True)

    illustrative: Literal[True] | None = Field(
        default=None, description="No official text: an illustration of our own."
    )
    source: str | None = Field(default=None, description="Source id declared by the profile.")
    title: str | None = Field(default=None, description="The source's title.")
    section: str | None = Field(default=None, description="Section, article or paragraph.")
    unconfirmed: Literal[True] | None = Field(
        default=None, description="The reference marks the text as unconfirmed."
    )
    mapping: Literal["illustrative"] | None = Field(
        default=None,
        description="Present when the text is official but mapping grades to it is ours.",
    )
    note: str | None = Field(default=None, description="A note on the citation.")

    @model_serializer(mode="wrap")
    def _without_absent_keys(self, handler: SerializerFunctionWrapHandler) -> Any:
        out = handler(self)
        if isinstance(out, dict):
            return {k: v for k, v in out.items() if v is not None}
        return out

    @property
    def empty(self) -> bool:
        """True for the empty citation of gates and assumptions."""
        return all(getattr(self, k) is None for k in type(self).model_fields)

    def label(self) -> str:
        """The citation as one line for people: source, title, section and flags."""
        parts = [str(v) for v in (self.source, self.title, self.section) if v]
        if self.mapping == "illustrative" or self.illustrative:
            parts.append("illustrative")
        if self.unconfirmed:
            parts.append("unconfirmed")
        return ", ".join(dict.fromkeys(parts))


class FiredRule(FrozenRecord):
    """A rule (or the applicability gate, or the context assumptions) that applied."""

    model_config = ConfigDict(populate_by_name=True)

    id: str = Field(description="Rule id; 'applies_when' / 'in_force' for gates.")
    kind: Literal["rule", "gate", "assumption"] = Field(
        description="'rule': a profile rule fired; 'gate': applicability or in-force test; "
        "'assumption': context filled from precautionary defaults."
    )
    title: str = Field(description="Human title.")
    action: Action | None = Field(
        default=None, description="The rule's action (none for assumptions)."
    )
    citation: RuleCitation = Field(
        default_factory=RuleCitation,
        description="{'illustrative': true} or {'source', 'title', 'section', 'unconfirmed'...}; "
        "empty for gates and assumptions.",
    )
    obligations: list[str] = Field(
        default_factory=list, description="Ids of the obligations the rule adds."
    )
    conditions: list[Condition] = Field(
        default_factory=list, description="Each condition with its actual value."
    )


class Obligation(FrozenRecord):
    """A concrete obligation: who, what, and by when."""

    model_config = ConfigDict(populate_by_name=True)

    id: str = Field(description="Obligation id in the profile's catalogue.")
    party: str = Field(description="Who must act or be notified.")
    what: str = Field(description="What must be done.")
    due: _dt.date = Field(description="Due date (ISO), computed from the clock start.")
    kind: str = Field(description="notify, report.initial, report.intermediate, ... .")
    clock: Literal["awareness", "notification", "patch"] = Field(
        description="The event that starts the clock."
    )
    clock_start: _dt.date = Field(description="The date the clock started (or is assumed to).")
    clock_start_assumed: bool = Field(
        default=False,
        description="True when the clock's event date was not given and the awareness date "
        "(the earliest it can be) was used.",
    )
    days: int = Field(description="Length of the period.")
    calendar: Literal["calendar", "business"] = Field(
        description="Calendar days, or business days (Mon-Fri minus the profile's holidays)."
    )
    recurs_every_days: int | None = Field(
        default=None, description="For recurring obligations: the period after the first due date."
    )
    rules: list[str] = Field(description="The fired rules that require this obligation.")
    citation: RuleCitation = Field(description="Source of the obligation and its deadline.")


class Change(FrozenRecord):
    """A single change of one input."""

    model_config = ConfigDict(populate_by_name=True)

    on: str = Field(description="Metric key or context.NAME.")
    from_: InputValue = Field(alias="from", description="Current value.")
    to: InputValue = Field(description="Value that would fire the rule.")
    action: Action = Field(description="The whole decision's action after this change.")


class NearMiss(FrozenRecord):
    """A rule that did not fire but would after one change, and would change the decision."""

    model_config = ConfigDict(populate_by_name=True)

    id: str = Field(description="Rule id.")
    title: str = Field(description="Rule title.")
    action: Action = Field(description="The rule's action.")
    citation: RuleCitation = Field(default_factory=RuleCitation, description="Rule citation.")
    adds_obligations: list[str] = Field(
        default_factory=list, description="Obligations it would add to the current decision."
    )
    changes: list[Change] = Field(description="Single changes, each of which fires the rule.")


class Decision(FrozenRecord):
    """What a profile decides for a grade in a context (versioned record)."""

    format_version: int = Field(
        default=DECISION_FORMAT_VERSION, description="Decision format version (Python model only)."
    )
    action: Action = Field(description="The maximum action of the fired rules.")
    obligations: list[Obligation] = Field(
        description="Union of the fired rules' obligations, by due date."
    )
    fired_rules: list[FiredRule] = Field(
        description="Gate, assumptions and fired rules, each with conditions and actual values."
    )
    near_misses: list[NearMiss] = Field(
        description="Rules one change away from firing that would change the decision."
    )
    provisional: bool = Field(
        description="True when a metric was X or context was assumed (precaution)."
    )
    profile: str = Field(description="Profile id.")
    profile_version: str = Field(description="Profile version.")
    bundle_sha256: str = Field(description="SHA-256 of the policy bundle (see docs).")
    vector: str | None = Field(default=None, description="The graded vector (Python model only).")
    aware_on: _dt.date | None = Field(
        default=None, description="Awareness date (Python model only)."
    )
    context: dict[str, ContextValue] | None = Field(
        default=None, description="Context values used, defaults included (Python model only)."
    )

    def to_dict(self) -> dict[str, Any]:
        """The published JSON form: exactly :data:`DECISION_KEYS`."""
        d = self.model_dump(
            mode="json", by_alias=True, exclude_none=True, include=set(DECISION_KEYS)
        )
        return {k: d[k] for k in DECISION_KEYS}

    @property
    def rule_ids(self) -> list[str]:
        """Ids of the profile rules that fired (gates and assumptions left out)."""
        return [r.id for r in self.fired_rules if r.kind == "rule"]

    def compare(self, other: Decision) -> DecisionDelta:
        """What changes from this decision to ``other`` (e.g. between two assessments)."""
        from jbgrade.policy._spec import action_rank

        a, b = action_rank(self.action), action_rank(other.action)
        mine = {o.id: o for o in self.obligations}
        theirs = {o.id: o for o in other.obligations}
        return DecisionDelta(
            profile=self.profile,
            same_profile_bundle=self.bundle_sha256 == other.bundle_sha256,
            action_from=self.action,
            action_to=other.action,
            direction="same" if a == b else ("up" if b > a else "down"),
            obligations_added=[k for k in theirs if k not in mine],
            obligations_removed=[k for k in mine if k not in theirs],
            due_changed=[k for k in mine if k in theirs and mine[k].due != theirs[k].due],
            rules_added=[r for r in other.rule_ids if r not in self.rule_ids],
            rules_removed=[r for r in self.rule_ids if r not in other.rule_ids],
            provisional_from=self.provisional,
            provisional_to=other.provisional,
        )


class Explainer(Protocol):
    """What a lazily explained decision holds to compute its explanation."""

    def fired_rules(self) -> list[FiredRule]:
        """The ``fired_rules`` entries, exactly as the eager engine builds them."""
        ...

    def near_misses(self) -> list[NearMiss]:
        """The ``near_misses`` entries, exactly as the eager engine builds them."""
        ...


_LAZY = ("fired_rules", "near_misses")
_ORDER = tuple(Decision.model_fields)
# What validating a decide() result set: every field but format_version.
_SET = frozenset(_ORDER) - {"format_version"}
# The instance-dict slot of pydantic models (_LazyDecision shadows the attribute).
_DICT: Any = BaseModel.__dict__["__dict__"]


class _LazyDecision(Decision):
    """A Decision whose ``fired_rules`` and ``near_misses`` are computed on first use.

    The fields are missing from the instance dict until then. Reading one of them
    goes through ``__getattr__``; everything that reads the record whole reads
    ``__dict__`` (pydantic's serialiser does so by attribute, so dumps nested in
    other models and TypeAdapters too), which this class answers by explaining
    first. Once both fields are there the instance becomes a plain
    :class:`Decision` (``__class__`` assignment: same layout), so explained
    decisions carry no overhead at all.
    """

    def _explain(self, only: str | None = None) -> None:
        priv = object.__getattribute__(self, "__pydantic_private__")
        ex: Explainer | None = priv.get("explainer") if priv else None
        cur: dict[str, Any] = _DICT.__get__(self)
        if ex is not None:
            got = {f: getattr(ex, f)() for f in _LAZY if f not in cur and only in (None, f)}
            if got:
                # Field order as validation gives it: dumps and repr follow dict order.
                cur = {k: got[k] if k in got else cur[k] for k in _ORDER if k in cur or k in got}
                _DICT.__set__(self, cur)
        if all(f in cur for f in _LAZY):
            object.__setattr__(self, "__pydantic_private__", None)
            object.__setattr__(self, "__class__", Decision)

    if not TYPE_CHECKING:  # mypy keeps checking attributes against the declared fields

        @property
        def __dict__(self) -> dict[str, Any]:
            self._explain()
            return _DICT.__get__(self)

        def __getattr__(self, name: str) -> Any:
            if name in _LAZY:
                self._explain(name)
                return _DICT.__get__(self)[name]
            return super().__getattr__(name)

        # Copies and pickles are of the explained, plain Decision (hidden from mypy:
        # BaseModel types them as returning Self).
        def __reduce_ex__(self, protocol: Any) -> Any:
            self._explain()
            return Decision.__reduce_ex__(self, protocol)

        def __copy__(self) -> Decision:
            self._explain()
            return Decision.__copy__(self)

        def __deepcopy__(self, memo: dict[int, Any] | None = None) -> Decision:
            self._explain()
            return Decision.__deepcopy__(self, memo)

    # What reads the class before the fields: explain, then act as a Decision.
    def __eq__(self, other: object) -> bool:
        self._explain()
        if isinstance(other, _LazyDecision):
            other._explain()
        return Decision.__eq__(self, other)

    __hash__ = Decision.__hash__

    def __repr_name__(self) -> str:
        return "Decision"


def lazy_decision(values: dict[str, Any], explainer: Explainer) -> Decision:
    """A Decision from trusted engine values, explained on first use.

    ``values`` holds every field but ``fired_rules`` and ``near_misses``, of the
    declared types: nothing is validated (the engine builds them from validated
    profiles and grades; tests/policy/test_lazy.py compares with validated
    decisions). This is ``model_construct`` without its per-field loop.
    """
    d = _LazyDecision.__new__(_LazyDecision)
    _DICT.__set__(d, values)
    object.__setattr__(d, "__pydantic_fields_set__", set(_SET))
    object.__setattr__(d, "__pydantic_extra__", None)
    object.__setattr__(d, "__pydantic_private__", {"explainer": explainer})
    return d


class DecisionDelta(FrozenRecord):
    """The difference between two decisions of the same profile."""

    model_config = ConfigDict(populate_by_name=True)

    profile: str = Field(description="Profile id (of the first decision).")
    same_profile_bundle: bool = Field(description="Both decisions used the same bundle hash.")
    action_from: Action = Field(description="First decision's action.")
    action_to: Action = Field(description="Second decision's action.")
    direction: Literal["up", "down", "same"] = Field(description="Change of action.")
    obligations_added: list[str] = Field(description="Obligation ids only the second has.")
    obligations_removed: list[str] = Field(description="Obligation ids only the first has.")
    due_changed: list[str] = Field(description="Obligations in both whose due date differs.")
    rules_added: list[str] = Field(description="Rules that fire only for the second.")
    rules_removed: list[str] = Field(description="Rules that fire only for the first.")
    provisional_from: bool = Field(description="First decision provisional.")
    provisional_to: bool = Field(description="Second decision provisional.")

    @property
    def changed(self) -> bool:
        """Whether the action or the obligations differ."""
        return bool(
            self.direction != "same"
            or self.obligations_added
            or self.obligations_removed
            or self.due_changed
        )
