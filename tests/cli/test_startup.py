"""Commands import only what they use: ``--help`` and ``score`` never load the
HTTP client, the database layer, the web stack or the report renderers.

(Start-up time itself is measured in docs/performance.md, not asserted here.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
HEAVY = (
    "aiohttp",
    "httpx2",
    "sqlalchemy",
    "fastapi",
    "jinja2",
    "altair",
    "weasyprint",
    "jbgrade.harness",
    "jbgrade.policy",
    "jbgrade.registry",
    "jbgrade.reports",
    "jbgrade.assess",
    "jbgrade.evidence",
    "jbgrade.web",
    "jbgrade.api",
)
VECTOR = "JBG:1.0/LY:X/UN:D/RL:M/TR:S/HD:C/UP:X/AG:T/AC:M/AU:Y/EX:P/ST:U"

PROBE = """
import json, sys
args = json.loads(sys.argv[1])
if args is None:
    import jbgrade.cli
else:
    from jbgrade.cli import main
    try:
        main(args)
    except SystemExit as exc:
        assert exc.code in (0, None), exc.code
heavy = json.loads(sys.argv[2])
print(json.dumps(sorted(m for m in heavy if m in sys.modules)))
"""


def _loaded(args: list[str] | None) -> list[str]:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    r = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args), json.dumps(HEAVY)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    loaded: list[str] = json.loads(r.stdout.strip().splitlines()[-1])
    return loaded


def test_importing_the_cli_loads_no_command_dependencies() -> None:
    assert _loaded(None) == []


def test_help_and_score_load_no_command_dependencies() -> None:
    assert _loaded(["--help"]) == []
    assert _loaded(["score", VECTOR]) == []
    assert _loaded(["campaign", "run", "--help"]) == []


def test_a_command_loads_what_it_needs() -> None:
    assert "jbgrade.policy" in _loaded(["policy", "list"])


def test_top_level_exports_resolve_lazily() -> None:
    code = (
        "import sys, jbgrade\n"
        "assert 'jbgrade.policy' not in sys.modules and 'jbgrade.rubric' not in sys.modules\n"
        "from jbgrade import grade, load_profile\n"
        f"assert jbgrade.grade({VECTOR!r}).severity == 'Critical'\n"
        "assert callable(load_profile) and 'jbgrade.policy' in sys.modules\n"
        "assert set(jbgrade.__all__) <= set(dir(jbgrade))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    subprocess.run([sys.executable, "-c", code], env=env, check=True)
