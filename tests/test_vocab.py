"""Each vocabulary is defined once (jbgrade._vocab), from the rubric and policy data."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import get_args

from jbgrade import _vocab
from jbgrade.policy import ACTIONS, action_rank
from jbgrade.records import DOMAINS, LAYER_ORDER
from jbgrade.rubric import LATEST_VERSION, SEVERITIES, default_tables, tables_for

SRC = Path(__file__).resolve().parents[1] / "src" / "jbgrade"


def test_literal_types_equal_the_data() -> None:
    assert get_args(_vocab.Domain) == _vocab.DOMAINS
    assert get_args(_vocab.Action) == _vocab.ACTIONS
    assert get_args(_vocab.Layer) == _vocab.LAYER_ORDER
    assert get_args(_vocab.Severity) == _vocab.SEVERITIES


def test_metric_letters_are_the_latest_tables_letters_in_order() -> None:
    latest = tables_for(LATEST_VERSION)
    assert set(_vocab.METRIC_LETTERS) == {m.key for m in latest.metrics}
    for m in latest.metrics:
        assert _vocab.METRIC_LETTERS[m.key] == m.letters
    assert _vocab.METRIC_LETTERS["HD"] == _vocab.DOMAINS


def test_severities_are_the_rubric_bands_in_order() -> None:
    t = default_tables()
    assert tuple(b[0] for b in t.severity_bands) == _vocab.SEVERITIES == SEVERITIES


def test_domains_are_the_hazard_metric_letters_of_every_table() -> None:
    hd = next(m for m in default_tables().metrics if m.key == "HD")
    assert hd.letters == _vocab.DOMAINS == DOMAINS
    for name in ("jbg-1.0.json", "jbg-1.1.json"):
        doc = json.loads((SRC / "rubric" / "data" / name).read_text("utf-8"))
        (m,) = [m for m in doc["metrics"] if m["key"] == "HD"]
        assert tuple(v["letter"] for v in m["values"]) == _vocab.DOMAINS
    assert set(_vocab.DOMAIN_MEANINGS) == set(_vocab.DOMAINS)


def test_actions_follow_both_policy_schemas_in_order() -> None:
    assert ACTIONS is _vocab.ACTIONS
    for name in ("decision.schema.json", "policy-profile.schema.json"):
        text = (SRC / "policy" / "data" / name).read_text("utf-8")
        enums = re.findall(r'"action": \{"enum": (\[[^\]]*\])', text)
        assert enums, name
        assert all(tuple(json.loads(e)) == ACTIONS for e in enums), name
    assert [action_rank(a) for a in ACTIONS] == list(range(len(ACTIONS)))


def test_layers_have_one_definition() -> None:
    assert LAYER_ORDER is _vocab.LAYER_ORDER


def test_no_module_spells_a_vocabulary_again() -> None:
    # The literal lists may appear only in _vocab.py (anything else imports them).
    spelled = {
        "domains": re.compile(r"""["']G["'],\s*["']S["'],\s*["']W["'],\s*["']C["']"""),
        "actions": re.compile(r"""["']none["'],\s*["']monitor["'],\s*["']mitigate["']"""),
        "layers": re.compile(r"""["']system_prompt["'],\s*["']input_classifier["']"""),
        "metric letters": re.compile(r"""_ORDER = \(["'][A-Z]["'],"""),
        "severities": re.compile(r"""["']None["'],\s*["']Low["'],\s*["']Medium["']"""),
    }
    offenders = []
    for p in sorted(SRC.rglob("*.py")):
        if p.name == "_vocab.py":
            continue
        text = p.read_text("utf-8")
        offenders += [f"{p.relative_to(SRC)}: {k}" for k, rx in spelled.items() if rx.search(text)]
    assert not offenders, offenders
