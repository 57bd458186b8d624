"""Regenerate src/jbgrade/evidence/data/evidence.schema.json from the Evidence model.

A test fails when the file and the model differ, so run this after changing the model.
"""

from __future__ import annotations

import json
from pathlib import Path

from jbgrade.evidence import evidence_schema

OUT = Path(__file__).resolve().parents[1] / "src/jbgrade/evidence/data/evidence.schema.json"

if __name__ == "__main__":
    OUT.write_text(json.dumps(evidence_schema(), indent=2) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")
