"""The measurement harness: targets, attacks, the runner and the attempt store.

A campaign spec (:func:`load_spec`) is resolved into a :class:`CampaignPlan`
(targets x baseline + attacks x behaviours x samples x seeds, judged), run by
:func:`run_campaign` in one asyncio process, and every finished
:class:`~jbgrade.records.Attempt` goes to an append-only :class:`AttemptStore`.
Targets and attacks are Protocols with registries (entry-point groups
``jbgrade.targets`` and ``jbgrade.attacks``). The reference target simulates a
guarded deployment with known weaknesses, in process or over HTTP
(:class:`ReferenceServer`, ``jbgrade target serve``).
"""

from jbgrade.harness._attacks import (
    ATTACKS,
    TRANSFORMS,
    Attack,
    AttackCapabilities,
    AttackFactory,
    AttackRun,
    AttackSpec,
    BaselineAttack,
    ChatFn,
    MultiTurnAttack,
    TemplateAttack,
    attack_atlas,
    attack_from_doc,
    attack_from_spec,
    bundled_attacks,
    load_attack,
    register_attack,
)
from jbgrade.harness._httpserver import HttpRequest, HttpResponse, HttpServer, json_response
from jbgrade.harness._limits import backoff_delay
from jbgrade.harness._local import TransformersSettings, TransformersTarget
from jbgrade.harness._openai import OpenAITarget, parse_retry_after, reply_from_json
from jbgrade.harness._progress import (
    JsonReporter,
    QuietReporter,
    Reporter,
    RichReporter,
    RunSummary,
)
from jbgrade.harness._ray import run_campaign_ray
from jbgrade.harness._reference import (
    AnswerStyle,
    ReferenceConfig,
    ReferenceModel,
    ReferenceTarget,
    load_reference_configs,
)
from jbgrade.harness._runner import (
    CampaignPlan,
    WorkItem,
    build_plan,
    request_seed,
    run_campaign,
)
from jbgrade.harness._serve import ReferenceServer
from jbgrade.harness._spec import (
    AttackRef,
    BehaviourRef,
    Budget,
    CampaignSpec,
    Limits,
    campaign_schema,
    load_spec,
    parse_spec,
    spec_from_doc,
    spec_hash,
)
from jbgrade.harness._store import (
    AttemptStore,
    Manifest,
    ManifestAttack,
    ManifestBehaviourSet,
    Shard,
    iter_attempt_records,
    load_manifest,
    read_attempts,
    read_runs,
)
from jbgrade.harness._targets import (
    TARGETS,
    AttemptHints,
    NoSettings,
    Target,
    TargetCapabilities,
    TargetFactory,
    TargetInfo,
    TargetOptions,
    TargetReply,
    TargetRequest,
    TargetSpec,
    build_target,
    register_target,
    target_settings,
)

__all__ = [
    "ATTACKS",
    "TARGETS",
    "TRANSFORMS",
    "AnswerStyle",
    "Attack",
    "AttackCapabilities",
    "AttackFactory",
    "AttackRef",
    "AttackRun",
    "AttackSpec",
    "AttemptHints",
    "AttemptStore",
    "BaselineAttack",
    "BehaviourRef",
    "Budget",
    "CampaignPlan",
    "CampaignSpec",
    "ChatFn",
    "HttpRequest",
    "HttpResponse",
    "HttpServer",
    "JsonReporter",
    "Limits",
    "Manifest",
    "ManifestAttack",
    "ManifestBehaviourSet",
    "MultiTurnAttack",
    "NoSettings",
    "OpenAITarget",
    "QuietReporter",
    "ReferenceConfig",
    "ReferenceModel",
    "ReferenceServer",
    "ReferenceTarget",
    "Reporter",
    "RichReporter",
    "RunSummary",
    "Shard",
    "Target",
    "TargetCapabilities",
    "TargetFactory",
    "TargetInfo",
    "TargetOptions",
    "TargetReply",
    "TargetRequest",
    "TargetSpec",
    "TemplateAttack",
    "TransformersSettings",
    "TransformersTarget",
    "WorkItem",
    "attack_atlas",
    "attack_from_doc",
    "attack_from_spec",
    "backoff_delay",
    "build_plan",
    "build_target",
    "bundled_attacks",
    "campaign_schema",
    "iter_attempt_records",
    "json_response",
    "load_attack",
    "load_manifest",
    "load_reference_configs",
    "load_spec",
    "parse_retry_after",
    "parse_spec",
    "read_attempts",
    "read_runs",
    "register_attack",
    "register_target",
    "reply_from_json",
    "request_seed",
    "run_campaign",
    "run_campaign_ray",
    "spec_from_doc",
    "spec_hash",
    "target_settings",
]
