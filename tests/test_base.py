"""One frozen base record and one validation-error helper (jbgrade._base)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ConfigDict, Field, ValidationError, field_validator

from jbgrade._base import FrozenRecord, validation_error
from jbgrade._errors import BehaviourFileError, InputError

SRC = Path(__file__).resolve().parents[1] / "src" / "jbgrade"


class _Inner(FrozenRecord):
    n: int


class _Outer(FrozenRecord):
    name: str
    inner: list[_Inner] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be blank\nsecond line that must not show")
        return v


def _error(data: object) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        _Outer.model_validate(data)
    return info.value


def test_frozen_record_is_immutable_and_rejects_unknown_fields() -> None:
    rec = _Outer(name="a")
    with pytest.raises(ValidationError):
        rec.name = "b"  # type: ignore[misc]
    with pytest.raises(ValidationError, match="Extra inputs"):
        _Outer.model_validate({"name": "a", "surprise": 1})


def test_subclass_config_merges_with_the_base() -> None:
    class Aliased(FrozenRecord):
        model_config = ConfigDict(populate_by_name=True)
        value: int

    assert Aliased.model_config["frozen"] is True
    assert Aliased.model_config["extra"] == "forbid"
    assert Aliased.model_config["populate_by_name"] is True


def test_validation_error_is_one_clean_line_naming_the_field() -> None:
    err = validation_error(_error({"name": "  "}), path="case.yaml")
    assert isinstance(err, InputError)
    assert str(err) == "case.yaml: name: must not be blank"
    assert "\n" not in str(err)


def test_validation_error_dotted_nested_field_prefix_class_and_context() -> None:
    exc = _error({"name": "a", "inner": [{"n": 1}, {"n": "x"}]})
    err = validation_error(exc, cls=BehaviourFileError, line=3, path="b.jsonl", prefix="body")
    assert isinstance(err, BehaviourFileError)
    assert err.field == "body.inner.1.n"
    assert err.line == 3
    assert str(err).startswith("b.jsonl:3: body.inner.1.n: Input should be a valid integer")
    assert validation_error(exc, context="not a record").message.startswith("not a record: ")


def test_unknown_field_and_top_level_errors() -> None:
    err = validation_error(_error({"name": "a", "extra": 1}))
    assert (err.field, err.message) == ("extra", "unknown field")
    top = validation_error(_error([1, 2]), prefix="evidence")
    assert top.field == "evidence"


def test_no_module_defines_its_own_frozen_base() -> None:
    # A bare frozen base (no fields, only the config) is FrozenRecord's job alone.
    bare = re.compile(
        r"class \w+\(BaseModel\):\n    model_config = ConfigDict\([^)]*frozen=True[^)]*\)\n\n\n"
    )
    offenders = [
        str(p.relative_to(SRC))
        for p in sorted(SRC.rglob("*.py"))
        if p.name != "_base.py" and bare.search(p.read_text("utf-8"))
    ]
    assert not offenders, offenders
