from __future__ import annotations

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
