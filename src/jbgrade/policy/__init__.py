"""Policy engine: versioned decision tables that turn a JBG grade into actions.

Profiles are YAML data (``data/profiles/*.yaml``, schema
``data/policy-profile.schema.json``); :func:`decide` evaluates one against a
grade and a context and returns a :class:`Decision` with the action, the
obligations and their due dates, the rules that fired with the actual values
that satisfied them, near misses, and the bundle hash that makes it replayable.

Depends on :mod:`jbgrade.rubric` only.
"""

from jbgrade.policy._check import check_profile, check_profiles
from jbgrade.policy._check_report import CheckReport, Finding
from jbgrade.policy._compile import Outcome
from jbgrade.policy._decide import decide, decide_all, replay
from jbgrade.policy._diff import DiffReport, Transition, diff_profiles
from jbgrade.policy._due import DUE_SOON_DAYS, DueStatus, add_days, due_status
from jbgrade.policy._load import (
    ENTRY_POINT_GROUP,
    PROFILES,
    ProfileFactory,
    ProfileOptions,
    list_profiles,
    load_all_profiles,
    load_profile,
    profile_edition,
)
from jbgrade.policy._model import (
    DECISION_FORMAT_VERSION,
    DECISION_KEYS,
    Change,
    Condition,
    Decision,
    DecisionDelta,
    FiredRule,
    NearMiss,
    Obligation,
    RuleCitation,
)
from jbgrade.policy._parse import parse_profile, profile_schema
from jbgrade.policy._profile import ENGINE_VERSION, Domain, Profile, canonical_json
from jbgrade.policy._spec import ACTIONS, CLOCKS, Atom, Citation, action_rank
from jbgrade.policy._yaml import load_context_file

__all__ = [
    "ACTIONS",
    "CLOCKS",
    "DECISION_FORMAT_VERSION",
    "DECISION_KEYS",
    "DUE_SOON_DAYS",
    "ENGINE_VERSION",
    "ENTRY_POINT_GROUP",
    "PROFILES",
    "Atom",
    "Change",
    "CheckReport",
    "Citation",
    "Condition",
    "Decision",
    "DecisionDelta",
    "DiffReport",
    "Domain",
    "DueStatus",
    "Finding",
    "FiredRule",
    "NearMiss",
    "Obligation",
    "Outcome",
    "Profile",
    "ProfileFactory",
    "ProfileOptions",
    "RuleCitation",
    "Transition",
    "action_rank",
    "add_days",
    "canonical_json",
    "check_profile",
    "check_profiles",
    "decide",
    "decide_all",
    "diff_profiles",
    "due_status",
    "list_profiles",
    "load_all_profiles",
    "load_context_file",
    "load_profile",
    "parse_profile",
    "profile_edition",
    "profile_schema",
    "replay",
]
