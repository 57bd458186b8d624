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
from jbgrade._yaml import load_located
from jbgrade.harness import campaign_schema, load_spec, parse_spec

from .conftest import EXAMPLES, bad_input_line, campaign_run

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
    with pytest.raises(CampaignSpecError, match=r"^spec.yaml:3: invalid YAML"):
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
        raw = load_located(path.read_text(), str(path)).data  # as jbgrade reads it
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


def test_cli_duplicate_key_exits_2_naming_file_line_field(tmp_path: Path) -> None:
    # PyYAML's safe_load kept the last 'type' silently; the one loader refuses the file.
    spec = tmp_path / "dup.yaml"
    spec.write_text(GOOD.replace("    type: reference", "    type: reference\n    type: openai"))
    line = bad_input_line(campaign_run(spec, tmp_path / "o"))
    assert f"{spec}:7: targets[0].type: duplicate key 'type'" in line
    assert not (tmp_path / "o" / "attempts.jsonl").exists()


SPEC_1_2 = """\
name: yaml-1-2
description: no
seed: 1e3
targets:
  - id: ref
    type: reference
    model: no
    vendor: yes
    headers: {X-Debug: on}
    params: {temperature: 7e-1, stream: off}
    requests_per_s: 5e1
attacks: [roleplay]
behaviours: [canary]
limits:
  timeout_s: 3e1
  budget: {requests: 1e3, tokens: 2e6}
"""


def test_yaml_1_2_scalars_no_stays_text_and_1e6_is_a_number() -> None:
    s = parse_spec(SPEC_1_2)
    t = s.targets[0]
    assert (s.description, t.model, t.vendor, t.headers) == ("no", "no", "yes", {"X-Debug": "on"})
    # Free-form params are sent as read: a number, and the text the file holds.
    assert t.params == {"temperature": 0.7, "stream": "off"}
    assert isinstance(t.params["temperature"], float)
    assert (t.requests_per_s, s.limits.timeout_s) == (50.0, 30.0)
    assert (s.limits.budget.requests, s.limits.budget.tokens, s.seeds) == (1000, 2_000_000, [1000])
    # What the harness's old YAML 1.1 reading made of the same lines.
    old = yaml.safe_load(SPEC_1_2)
    assert old["targets"][0]["model"] is False and old["limits"]["budget"]["tokens"] == "2e6"


def test_anchors_and_merge_keys() -> None:
    text = GOOD.replace(
        "  - id: ref\n    type: reference\n",
        "  - &t {id: ref, type: reference, vendor: v, params: {temperature: 0.5}}\n"
        "  - <<: *t\n    id: ref2\n",
    )
    s = parse_spec(text)
    assert [(t.id, t.vendor, t.params) for t in s.targets] == [
        ("ref", "v", {"temperature": 0.5}),
        ("ref2", "v", {"temperature": 0.5}),
    ]


@pytest.mark.parametrize(
    ("attack", "where"),
    [
        (
            '  - id: inline-one\n    template: "Please: {behaviour}"\n    transforms: [rot99]\n',
            "spec.yaml:11: attacks[1].transforms: unknown transform 'rot99'",
        ),
        (
            "  - inline:\n      id: two\n      kind: multi_turn\n",
            "spec.yaml:9: attacks[1].inline: a multi_turn attack needs turns",
        ),
        (
            "  - {id: three, colour: red}\n",
            "spec.yaml:9: attacks[1].colour: unknown field",
        ),
    ],
)
def test_inline_attacks_are_checked_with_their_lines(attack: str, where: str) -> None:
    text = GOOD.replace('  - {id: inline-one, template: "Please: {behaviour}"}\n', attack)
    with pytest.raises(CampaignSpecError) as ei:
        parse_spec(text, "spec.yaml")
    assert str(ei.value).startswith(where), str(ei.value)
