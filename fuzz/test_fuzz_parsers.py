"""Fuzz targets for every parser of outside input (issue 14, point 3).

Not part of the default test run (``tests/`` only): run with ``make fuzz``
(``JBGRADE_FUZZ_EXAMPLES`` examples per target, default 20,000). The property is
the same everywhere: a parser either returns or raises one of jbgrade's
deliberate errors (``JbgradeError``: exit 2, one line) - never another exception,
a hang or a crash. The last
result is recorded in docs/design/0200-hostile-input.md.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jbgrade._errors import JbgradeError
from jbgrade._yaml import load_located

EXAMPLES = int(os.environ.get("JBGRADE_FUZZ_EXAMPLES", "20000"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=False,
    suppress_health_check=list(HealthCheck),
)

# YAML-shaped text: the pieces that drive the parser's states, shuffled.
_TOKENS = st.sampled_from(
    [
        "[", "]", "{", "}", ",", ":", ": ", "- ", "? ", "\n", "  ", "#", "&a ", "*a", "<<: ",
        "!!int ", "!!float ", "!!bool ", "!!timestamp ", "!!binary ", "!!set ", "!!omap ",
        "!!str ", "!!null ", "!foo ", "'", '"', "|", ">", "---\n", "...\n", "%YAML 1.1\n",
        "a", "b", "1", "1e25", "0x1f", "2026-13-01", "yes", "no", "~", ".nan", "\\u0000",
    ]
)  # fmt: skip
YAMLISH = st.lists(_TOKENS, max_size=300).map("".join)
TEXT = st.one_of(st.text(max_size=2000), YAMLISH)


def _only_input_errors(fn: Callable[[str], object], text: str) -> None:
    with contextlib.suppress(JbgradeError):  # deliberate: the CLI's exit 2, one line
        fn(text)


@FUZZ
@given(TEXT)
def test_yaml_loader(text: str) -> None:
    _only_input_errors(lambda t: load_located(t, "<fuzz>", allow_empty=True), text)


@FUZZ
@given(st.integers(min_value=1, max_value=100_000), st.sampled_from(["[", "{a: ", "- ", "? "]))
def test_yaml_loader_deep(depth: int, opener: str) -> None:
    closer = {"[": "]", "{a: ": "}", "- ": "", "? ": ""}[opener]
    _only_input_errors(
        lambda t: load_located(t, "<fuzz>"), opener * depth + "x" + closer * depth + "\n"
    )


@FUZZ
@given(TEXT)
def test_case_file(text: str) -> None:
    from jbgrade.assess import load_case

    _only_input_errors(lambda t: load_case(Path("fuzz-case.yaml"), text=t), text)


@FUZZ
@given(TEXT)
def test_profile(text: str) -> None:
    from jbgrade.policy import parse_profile

    _only_input_errors(parse_profile, text)


@FUZZ
@given(TEXT)
def test_campaign_spec(text: str) -> None:
    from jbgrade.harness import parse_spec

    _only_input_errors(parse_spec, text)


@FUZZ
@given(st.one_of(st.text(max_size=300), st.from_regex(r"JBG:1\.0(/[A-Z]{2}:[A-Z]){0,14}")))
def test_vector(text: str) -> None:
    from jbgrade.rubric import parse_vector

    _only_input_errors(parse_vector, text)
