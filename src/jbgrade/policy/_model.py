"""The Decision record and its parts (versioned pydantic models).

The published JSON form (:meth:`Decision.to_dict`, ``jbgrade decide --json``,
``decision.schema.json``) has exactly the keys ``action, obligations,
fired_rules, near_misses, provisional, profile, profile_version,
bundle_sha256``. The Python model also carries the inputs (vector, context,
dates) so that a decision can be replayed and compared.

:func:`jbgrade.decide` computes the action, the obligations and ``provisional``
eagerly and the explanation (``fired_rules``, ``near_misses``) on first
access: a Decision made by it holds what is needed to explain itself and fills
those two fields when they are read, compared, copied, pickled, printed or
serialised (any pydantic serialisation, nested ones included, goes through
:meth:`Decision._materialise_for_serialisation`). To everything outside it is
the same record as one validated from JSON (see
docs/design/0009-policy-engine.md, "Lazy explanation").
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal, Protocol

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    PrivateAttr,
    SerializerFunctionWrapHandler,
    model_serializer,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

__all__ = [
    "DECISION_FORMAT_VERSION",
    "DECISION_KEYS",
    "LAZY_FIELDS",
    "Action",
    "Change",
    "Condition",
    "Decision",
    "DecisionDelta",
    "Explainer",
    "FiredRule",
    "NearMiss",
    "Obligation",
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

Action = Literal["none", "monitor", "mitigate", "restrict_export", "block_deployment"]

_CFG = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Condition(BaseModel):
    """One tested condition and the actual value it was tested against."""

    model_config = _CFG

    on: str = Field(
        description="The input: severity, score, systemic, provisional, a criterion (BP/EC/RI), "
        "a metric key, context.NAME or aware_on."
    )
    test: str = Field(description="The test as written in the profile, e.g. 'at_least High'.")
    actual: Any = Field(description="The value the test was evaluated on (X resolved to worst).")
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


class FiredRule(BaseModel):
    """A rule (or the applicability gate, or the context assumptions) that applied."""

    model_config = _CFG

    id: str = Field(description="Rule id; 'applies_when' / 'in_force' for gates.")
    kind: Literal["rule", "gate", "assumption"] = Field(
        description="'rule': a profile rule fired; 'gate': applicability or in-force test; "
        "'assumption': context filled from precautionary defaults."
    )
    title: str = Field(description="Human title.")
    action: Action | None = Field(
        default=None, description="The rule's action (none for assumptions)."
    )
    citation: dict[str, Any] = Field(
        default_factory=dict,
        description="{'illustrative': true} or {'source', 'title', 'section', 'unconfirmed'...}.",
    )
    obligations: list[str] = Field(
        default_factory=list, description="Ids of the obligations the rule adds."
    )
    conditions: list[Condition] = Field(
        default_factory=list, description="Each condition with its actual value."
    )


class Obligation(BaseModel):
    """A concrete obligation: who, what, and by when."""

    model_config = _CFG

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
    citation: dict[str, Any] = Field(description="Source of the obligation and its deadline.")


class Change(BaseModel):
    """A single change of one input."""

    model_config = _CFG

    on: str = Field(description="Metric key or context.NAME.")
    from_: Any = Field(alias="from", description="Current value.")
    to: Any = Field(description="Value that would fire the rule.")
    action: Action = Field(description="The whole decision's action after this change.")


class NearMiss(BaseModel):
    """A rule that did not fire but would after one change, and would change the decision."""

    model_config = _CFG

    id: str = Field(description="Rule id.")
    title: str = Field(description="Rule title.")
    action: Action = Field(description="The rule's action.")
    citation: dict[str, Any] = Field(default_factory=dict, description="Rule citation.")
    adds_obligations: list[str] = Field(
        default_factory=list, description="Obligations it would add to the current decision."
    )
    changes: list[Change] = Field(description="Single changes, each of which fires the rule.")


class Explainer(Protocol):
    """What a lazily explained Decision holds to compute its explanation."""

    def fired_rules(self) -> list[FiredRule]:
        """The ``fired_rules`` entries, as the eager engine would build them."""
        ...

    def near_misses(self) -> list[NearMiss]:
        """The ``near_misses`` entries, as the eager engine would build them."""
        ...


#: Fields that :func:`jbgrade.decide` fills on first access.
LAZY_FIELDS = ("fired_rules", "near_misses")


class Decision(BaseModel):
    """What a profile decides for a grade in a context (versioned record).

    A Decision from :func:`jbgrade.decide` computes ``fired_rules`` and
    ``near_misses`` on first use (see the module docstring); sub-records
    (rules, conditions, obligations) are frozen and may be shared between
    decisions.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    # Pending explanation (None once explained, and for decisions validated from data).
    _explainer: Explainer | None = PrivateAttr(default=None)

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
    context: dict[str, Any] | None = Field(
        default=None, description="Context values used, defaults included (Python model only)."
    )

    @property
    def explained(self) -> bool:
        """Whether the explanation has been computed (always true unless made lazily)."""
        priv = self.__pydantic_private__
        return priv is None or priv.get("_explainer") is None

    def _explain(self, only: str | None = None) -> None:
        """Fill the lazy fields (``only`` one of them, or all) from the explainer."""
        priv = self.__pydantic_private__
        ex = priv.get("_explainer") if priv else None
        if ex is None:
            return
        cur = self.__dict__
        todo = [f for f in LAZY_FIELDS if f not in cur and (only is None or f == only)]
        got = {f: getattr(ex, f)() for f in todo}
        # Field order as a validated record has it (dumps and repr follow dict order).
        new = {k: got[k] if k in got else cur[k] for k in _FIELD_ORDER if k in cur or k in got}
        object.__setattr__(self, "__dict__", new)
        if all(f in new for f in LAZY_FIELDS) and priv is not None:
            priv["_explainer"] = None

    if not TYPE_CHECKING:  # keep mypy's attribute checking on the declared fields

        def __getattr__(self, name: str) -> Any:
            if name in LAZY_FIELDS:
                self._explain(name)
                try:
                    return self.__dict__[name]
                except KeyError:
                    pass
            return super().__getattr__(name)

    @model_serializer(mode="wrap")
    def _materialise_for_serialisation(self, handler: SerializerFunctionWrapHandler) -> Any:
        # Every pydantic serialisation (model_dump, nested in another model,
        # TypeAdapter) reads __dict__: complete it first.
        self._explain()
        return handler(self)

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        # The wrap serializer returns the model's own form: describe it by the fields,
        # not as "any" (pydantic's default for a function serializer).
        if handler.mode == "serialization" and "serialization" in core_schema:
            core_schema = {k: v for k, v in core_schema.items() if k != "serialization"}
        return handler(core_schema)

    def __eq__(self, other: object) -> bool:
        self._explain()
        if isinstance(other, Decision):
            other._explain()
        return super().__eq__(other)

    def __hash__(self) -> int:
        # As pydantic's frozen-model hash (the list fields make it raise TypeError).
        self._explain()
        return hash(tuple(self.__dict__[k] for k in _FIELD_ORDER))

    def __iter__(self) -> Iterator[tuple[str, Any]]:  # type: ignore[override]
        self._explain()
        return super().__iter__()

    def __repr_args__(self) -> Any:
        self._explain()
        return super().__repr_args__()

    def __getstate__(self) -> dict[Any, Any]:
        self._explain()
        return super().__getstate__()

    def __copy__(self) -> Decision:
        self._explain()
        return super().__copy__()

    def __deepcopy__(self, memo: dict[int, Any] | None = None) -> Decision:
        self._explain()
        return super().__deepcopy__(memo)

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

    @property
    def obligation_ids(self) -> list[str]:
        return [o.id for o in self.obligations]

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


_FIELD_ORDER = tuple(Decision.model_fields)
# The fields a decision from decide() sets (all but format_version), as validation did.
_FIELDS_SET = frozenset(_FIELD_ORDER) - {"format_version"}


def lazy_decision(values: dict[str, Any], explainer: Explainer) -> Decision:
    """A Decision from trusted engine values, explained on first use.

    ``values`` holds every field except :data:`LAZY_FIELDS`, in field order and
    already of the declared types: no validation (the engine builds them from
    validated profiles and grades; tests compare with validated decisions).
    This is what ``model_construct`` does, without its per-field loop.
    """
    d = Decision.__new__(Decision)
    object.__setattr__(d, "__dict__", values)
    object.__setattr__(d, "__pydantic_fields_set__", set(_FIELDS_SET))
    object.__setattr__(d, "__pydantic_extra__", None)
    object.__setattr__(d, "__pydantic_private__", {"_explainer": explainer})
    return d


class DecisionDelta(BaseModel):
    """The difference between two decisions of the same profile."""

    model_config = _CFG

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
