"""Decision context files: a mapping of field: value, in JSON or YAML.

YAML is read by jbgrade's one YAML loader (:mod:`jbgrade._yaml`: YAML 1.2
booleans, so ``designated: no`` stays the string ``"no"``), the same that reads
profiles and case files, so a case file's ``policy.context`` means exactly what
the same mapping means in a ``--context`` file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jbgrade._errors import PolicyError
from jbgrade._yaml import load_located, read_text_limited

__all__ = ["load_context_file"]

#: Largest context file read (bytes): a context is a few dozen fields.
MAX_CONTEXT_BYTES = 1_000_000


def load_context_file(path: str | Path) -> dict[str, Any]:
    """A decision context from a JSON or YAML file (a mapping of field: value).

    YAML is read like profiles are (YAML 1.2 booleans, so ``designated: no``
    stays the string ``"no"``); errors name the file and line.
    """
    p = Path(path)
    text = read_text_limited(p, max_bytes=MAX_CONTEXT_BYTES, what="context file", cls=PolicyError)
    data: Any
    if p.suffix == ".json":
        try:
            data = json.loads(text)
        except RecursionError:
            raise PolicyError("context file nests too deeply", path=str(p)) from None
        except ValueError as exc:
            raise PolicyError(
                f"context file is not valid JSON: {exc}",
                path=str(p),
                line=getattr(exc, "lineno", None),
            ) from exc
    else:
        data = load_located(text, str(p), cls=PolicyError).data if text.strip() else None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise PolicyError("context file must hold a mapping of field: value", path=str(p))
    return data
