"""Campaign spec: validation errors name file, line and field; the schema is published."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
import yaml

from jbgrade import CampaignSpecError
from jbgrade.harness import campaign_schema, load_spec, parse_spec

from .conftest import EXAMPLES

GOOD = """\
name: demo
seed: 3
samples: 2
targets:
  - id: ref
    type: reference
attacks:
  - roleplay
  - {id: inline-one, template: "Please: {behaviour}"}
behaviours: [canary]
limits:
  concurrency: 4
"""


def test_good_spec_and_shorthands() -> None:
    s = parse_spec(GOOD)
    assert s.seeds == [3]
    assert s.attacks[0].ref == "roleplay"
    assert s.attacks[1].inline == {"id": "inline-one", "template": "Please: {behaviour}"}
    assert s.behaviours[0].source == "canary"
    assert s.judges == [{"type": "refusal"}]
    assert s.baseline is True


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ("concurrency: 4", "concurrency: 0", "spec.yaml:12: limits.concurrency:"),
        (
            "    type: reference",
            "    type: reference\n    colour: red",
            "spec.yaml:7: targets[0].colour: unknown field",
        ),
        ("samples: 2", "samples: two", "spec.yaml:3: samples:"),
        ("  - roleplay", "  - {ref: a, plugin: b}", "spec.yaml:8: attacks[0]: give exactly one"),
        ("name: demo", "name: 'a b'", "spec.yaml:1: name:"),
        ("seed: 3", "seed: 3\nseeds: [1]", "spec.yaml:1: (top level): give 'seed' or 'seeds'"),
        ("behaviours: [canary]", "behaviours: []", "spec.yaml:10: behaviours:"),
        ("baseline", "baseline", None),
    ],
)
def test_errors_name_file_line_field(old: str, new: str, where: str | None) -> None:
    text = GOOD.replace(old, new)
    if where is None:
        text = GOOD + "baseline: false\n"
        where = "spec.yaml:13: baseline:"
    with pytest.raises(CampaignSpecError) as ei:
        parse_spec(text, "spec.yaml")
    assert str(ei.value).startswith(where), str(ei.value)


def test_yaml_syntax_error_and_env_expansion(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(CampaignSpecError, match=r"^spec.yaml:3: not valid YAML"):
        parse_spec("name: x\ntargets: [\n", "spec.yaml")
    monkeypatch.delenv("JBG_NOPE", raising=False)
    with pytest.raises(CampaignSpecError, match=r"^spec.yaml:6: environment variable JBG_NOPE"):
        parse_spec(GOOD.replace("type: reference", "type: ${JBG_NOPE}"), "spec.yaml")
    monkeypatch.setenv("JBG_T", "reference")
    assert (
        parse_spec(GOOD.replace("type: reference", "type: ${JBG_T}")).targets[0].type == "reference"
    )
    assert (
        parse_spec(GOOD.replace("type: reference", "type: ${JBG_NOPE:-openai}")).targets[0].type
        == "openai"
    )


def test_published_schema_is_current_and_validates_examples() -> None:
    shipped = json.loads(
        resources.files("jbgrade.harness").joinpath("data/campaign.schema.json").read_text()
    )
    assert shipped == campaign_schema(), "regenerate data/campaign.schema.json"
    for path in EXAMPLES.glob("*.yaml"):
        if path.name == "reference-target.yaml":
            continue
        raw = yaml.safe_load(path.read_text())
        load_spec(path)  # also valid for pydantic
        # The schema sees the file after ${...} expansion; these examples only use defaults.
        text = json.dumps(raw).replace(
            "${JBGRADE_REF_URL:-http://127.0.0.1:8765/v1}", "http://x/v1"
        )
        jsonschema.validate(json.loads(text), shipped)


def test_cli_bad_spec_exits_2_with_one_line(tmp_path: Path) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text(GOOD.replace("concurrency: 4", "concurrency: -3"))
    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "jbgrade",
            "campaign",
            "run",
            str(spec),
            "--out",
            str(tmp_path / "o"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert p.returncode == 2
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1
    assert f"{spec}:12: limits.concurrency:" in lines[0]
    assert "Traceback" not in p.stderr
