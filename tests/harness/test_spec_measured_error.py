"""A judge's measured_error in the campaign spec (design 0110)."""

from __future__ import annotations

import pytest

from jbgrade import CampaignSpecError
from jbgrade.harness import campaign_schema, parse_spec, spec_hash

BASE = """name: x
targets: [{id: r, type: reference}]
attacks: [prefix-injection]
behaviours: [canary]
judges:
  - type: refusal
"""


def test_measured_error_does_not_change_the_campaign_identity() -> None:
    plain = parse_spec(BASE)
    declared = parse_spec(
        BASE + "    measured_error: {sensitivity: 0.9, sensitivity_n: 100, specificity: 0.95,"
        " specificity_n: 120}\n"
    )
    assert declared.judges[0]["measured_error"]["sensitivity"] == 0.9
    assert spec_hash(plain.identity()) == spec_hash(declared.identity())


def test_bad_measured_error_names_the_line() -> None:
    with pytest.raises(CampaignSpecError, match=r"s\.yaml:5: judges: .*no better than chance"):
        parse_spec(
            BASE + "    measured_error: {sensitivity: 0.4, sensitivity_n: 10, specificity: 0.5,"
            " specificity_n: 10}\n",
            "s.yaml",
        )
    with pytest.raises(CampaignSpecError, match="sensitivity_n"):
        parse_spec(BASE + "    measured_error: {sensitivity: 0.9}\n")


def test_schema_documents_measured_error() -> None:
    s = campaign_schema()
    item = s["properties"]["judges"]["items"]
    assert item["properties"]["measured_error"]["$ref"] == "#/$defs/MeasuredError"
    assert "eval_file" in s["$defs"]["MeasuredError"]["properties"]
