from __future__ import annotations

from jbgrade.policy import Profile, load_profile, profile_edition

WORST = "JBG:1.0/LY:F/UN:U/RL:H/TR:M/HD:C/UP:F/AG:A/AC:L/AU:Y/EX:O/ST:A"
LOWEST = "JBG:1.0/LY:M/UN:N/RL:L/TR:S/HD:G/UP:N/AG:T/AC:H/AU:N/EX:R/ST:U"
SHIPPED = ("eu-ai-act-gpai", "g7-baseline", "lab-frontier", "us-export")
#: The published keys of a decision, in order (the contract, written out: not read from the code).
PUBLISHED_DECISION_KEYS = [
    "action",
    "obligations",
    "fired_rules",
    "near_misses",
    "provisional",
    "profile",
    "profile_version",
    "bundle_sha256",
]


def p10(name: str) -> Profile:
    """The JBG 1.0 edition of a shipped profile (the engine tests grade 1.0 vectors).

    Since JBG 1.1 the shipped profiles read 1.1 grades; their 1.0 editions are kept
    (data/profiles/jbg-1.0/) so 1.0 grades and earlier decisions still work and replay.
    """
    ed = profile_edition(name, "1.0") if name in SHIPPED else None
    return ed if ed is not None else load_profile(name)


def p10_path(name: str) -> str:
    """The file of the JBG 1.0 edition of a shipped profile (for CLI and diff tests)."""
    from importlib import resources

    return str(resources.files("jbgrade.policy").joinpath(f"data/profiles/jbg-1.0/{name}.yaml"))
