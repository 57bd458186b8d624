"""The published schemas are exactly what the models generate, and are registered."""

from __future__ import annotations

import json
from importlib import resources

import jsonschema
import pytest

from jbgrade.assess._schemas import SCHEMA_FILES, generated_schemas
from jbgrade.cli._schema import SCHEMAS, load_schema


@pytest.mark.parametrize("name", sorted(SCHEMA_FILES))
def test_committed_schema_matches_models(name: str) -> None:
    committed = json.loads(
        resources.files("jbgrade.assess").joinpath("data/" + SCHEMA_FILES[name][1]).read_text()
    )
    assert committed == generated_schemas()[name], (
        "regenerate with: PYTHONPATH=src python scripts/gen_assess_schemas.py"
    )
    jsonschema.Draft202012Validator.check_schema(committed)
    assert name in SCHEMAS
    assert load_schema(name) == committed
