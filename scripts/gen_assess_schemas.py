"""Regenerate the assess layer's JSON Schemas from its pydantic models."""

from __future__ import annotations

import json
from pathlib import Path

from jbgrade.assess._schemas import SCHEMA_FILES, generated_schemas

DATA = Path(__file__).resolve().parent.parent / "src" / "jbgrade" / "assess" / "data"


def main() -> None:
    for name, schema in generated_schemas().items():
        path = DATA / SCHEMA_FILES[name][1]
        path.write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
