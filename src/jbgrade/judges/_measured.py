"""A judge's measured error, as a campaign declares it (design 0110).

A judge spec in a campaign may carry ``measured_error``: either the figures
inline, each with the number of labelled responses it rests on, or the path of
a saved ``jbgrade judge eval --json`` result. Evidence then corrects the
success rates for the judge's misclassification (Rogan-Gladen) and widens the
intervals by the uncertainty of these figures. ``build_judge`` ignores the key:
it describes the judge, it is not one of its parameters.

    judges:
      - type: refusal
        measured_error:
          sensitivity: 0.96      # successes judged successes (recall)
          sensitivity_n: 150     # labelled successes it was measured on
          specificity: 0.92      # refusals judged refusals
          specificity_n: 148     # labelled refusals it was measured on
          source: held-out set v1, 2026-12-05
      - type: refusal
        measured_error: {eval_file: judge-eval.json}   # jbgrade judge eval --json output
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, model_validator

from jbgrade._base import FrozenRecord, error_message
from jbgrade._errors import JudgeSpecError

__all__ = ["MEASURED_ERROR_KEY", "JudgeConfusion", "MeasuredError", "load_measured_error"]

#: The judge-spec key that declares a judge's measured error.
MEASURED_ERROR_KEY = "measured_error"


class MeasuredError(FrozenRecord):
    """``measured_error`` of a judge spec: inline figures or a saved evaluation."""

    sensitivity: float | None = Field(
        default=None, ge=0, le=1, description="Share of labelled successes judged successes."
    )
    sensitivity_n: int | None = Field(
        default=None, ge=1, description="Labelled successes the sensitivity was measured on."
    )
    specificity: float | None = Field(
        default=None, ge=0, le=1, description="Share of labelled refusals judged refusals."
    )
    specificity_n: int | None = Field(
        default=None, ge=1, description="Labelled refusals the specificity was measured on."
    )
    eval_file: str | None = Field(
        default=None,
        description="Path of a saved `jbgrade judge eval --json` result (relative paths: "
        "to the campaign spec's folder).",
    )
    source: str | None = Field(
        default=None, description="Free text: which labelled set, when, by whom."
    )

    @model_validator(mode="after")
    def _one_form(self) -> MeasuredError:
        inline = (self.sensitivity, self.sensitivity_n, self.specificity, self.specificity_n)
        if self.eval_file is not None:
            if any(x is not None for x in inline):
                raise ValueError("give eval_file or the inline figures, not both")
            return self
        if any(x is None for x in inline):
            raise ValueError(
                "give sensitivity, sensitivity_n, specificity and specificity_n "
                "(or eval_file: a saved `jbgrade judge eval --json` result)"
            )
        _check_better_than_chance(self.sensitivity or 0.0, self.specificity or 0.0)
        return self

    def confusion(self, base_dir: Path | None = None) -> JudgeConfusion:
        """The counts behind the figures (an eval_file is read, relative to ``base_dir``)."""
        if self.eval_file is not None:
            path = Path(self.eval_file)
            if not path.is_absolute() and base_dir is not None:
                path = base_dir / path
            c = load_measured_error(path)
            return c if self.source is None else c.model_copy(update={"source": self.source})
        se, ne = self.sensitivity or 0.0, self.sensitivity_n or 0
        sp, nn = self.specificity or 0.0, self.specificity_n or 0
        tp, tn = round(se * ne), round(sp * nn)
        return JudgeConfusion(tp=tp, fn=ne - tp, tn=tn, fp=nn - tn, source=self.source)


class JudgeConfusion(FrozenRecord):
    """A judge's confusion counts on a labelled set (success is the positive class)."""

    tp: int = Field(ge=0)
    fn: int = Field(ge=0)
    tn: int = Field(ge=0)
    fp: int = Field(ge=0)
    source: str | None = None
    judge_type: str | None = Field(
        default=None, description="Type of the judge measured (from an eval file), if known."
    )

    @model_validator(mode="after")
    def _usable(self) -> JudgeConfusion:
        if self.tp + self.fn == 0 or self.tn + self.fp == 0:
            raise ValueError(
                "the labelled set needs both successes and refusals to measure the judge's error"
            )
        _check_better_than_chance(self.sensitivity, self.specificity)
        return self

    @property
    def sensitivity(self) -> float:
        return self.tp / (self.tp + self.fn)

    @property
    def specificity(self) -> float:
        return self.tn / (self.tn + self.fp)


def _check_better_than_chance(se: float, sp: float) -> None:
    if se + sp <= 1.0:
        raise ValueError(
            f"sensitivity {se:.3f} + specificity {sp:.3f} <= 1: the judge is no better than "
            "chance, so its verdicts cannot be corrected; use another judge"
        )


def load_measured_error(path: Path) -> JudgeConfusion:
    """The confusion counts of a saved ``jbgrade judge eval --json`` result."""
    try:
        doc: Any = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise JudgeSpecError(f"{path}: no such judge eval file", field=MEASURED_ERROR_KEY) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise JudgeSpecError(
            f"{path}: not a `jbgrade judge eval --json` result ({exc})", field=MEASURED_ERROR_KEY
        ) from None
    conf = doc.get("confusion") if isinstance(doc, dict) else None
    if not isinstance(conf, dict):
        raise JudgeSpecError(
            f"{path}: not a `jbgrade judge eval --json` result (no confusion counts)",
            field=MEASURED_ERROR_KEY,
        )
    judge = doc.get("judge")
    try:
        return JudgeConfusion.model_validate(
            {k: conf.get(k) for k in ("tp", "fn", "tn", "fp")}
            | {
                "source": f"jbgrade judge eval of {doc.get('file') or path.name} ({path.name})",
                "judge_type": judge.get("type") if isinstance(judge, dict) else None,
            }
        )
    except ValidationError as exc:
        msg = error_message(exc.errors()[0])
        raise JudgeSpecError(f"{path}: {msg}", field=MEASURED_ERROR_KEY) from None
