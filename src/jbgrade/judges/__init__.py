"""Judges: decide whether a response is a jailbreak success, with a structured verdict.

A :class:`Judge` is a Protocol; judge types register with :func:`register_judge`
(or the ``jbgrade.judges`` entry-point group) and are built from a spec with
:func:`build_judge`. Shipped types: ``refusal`` (patterns at the start of the
response), ``strongreject`` (rubric through an OpenAI-compatible endpoint),
``harmbench`` (yes/no through an endpoint) and ``ensemble`` (a declared
combination rule). :func:`reference_judge_reply` answers our judge prompts
deterministically from canary markers, so a local server can act as judge model.
"""

from jbgrade.judges._base import (
    ENTRY_POINT_GROUP,
    JUDGES,
    Judge,
    JudgeFactory,
    MemberVerdicts,
    SyncJudge,
    build_judge,
    judge_types,
    register_judge,
)
from jbgrade.judges._endpoint import (
    EndpointConfig,
    EndpointOptions,
    HarmBenchJudge,
    StrongRejectJudge,
    StrongRejectOptions,
)
from jbgrade.judges._ensemble import RULES, EnsembleJudge, EnsembleOptions, combine_verdicts
from jbgrade.judges._measured import (
    MEASURED_ERROR_KEY,
    JudgeConfusion,
    MeasuredError,
    load_measured_error,
)
from jbgrade.judges._prompts import (
    RUBRIC_TAG,
    YESNO_TAG,
    RubricAnswer,
    parse_rubric,
    parse_yesno,
    reference_judge_reply,
    rubric_messages,
    strongreject_score,
    yesno_messages,
)
from jbgrade.judges._refusal import RefusalJudge, RefusalOptions, normalise_response, refusal_match

__all__ = [
    "ENTRY_POINT_GROUP",
    "JUDGES",
    "MEASURED_ERROR_KEY",
    "RUBRIC_TAG",
    "RULES",
    "YESNO_TAG",
    "EndpointConfig",
    "EndpointOptions",
    "EnsembleJudge",
    "EnsembleOptions",
    "HarmBenchJudge",
    "Judge",
    "JudgeConfusion",
    "JudgeFactory",
    "MeasuredError",
    "MemberVerdicts",
    "RefusalJudge",
    "RefusalOptions",
    "RubricAnswer",
    "StrongRejectJudge",
    "StrongRejectOptions",
    "SyncJudge",
    "build_judge",
    "combine_verdicts",
    "judge_types",
    "load_measured_error",
    "normalise_response",
    "parse_rubric",
    "parse_yesno",
    "reference_judge_reply",
    "refusal_match",
    "register_judge",
    "rubric_messages",
    "strongreject_score",
    "yesno_messages",
]
