"""Every data file under src/jbgrade goes into the wheel: it matches one of the
package-data globs in pyproject.toml (setuptools packages only what they match).

Vendored schemas must travel with their licences (LICENSE-*, no extension); a file no
glob matches is silently left out of the wheel and only shows up in an installed copy.
Checked against the globs rather than by building a wheel (20 s and a build backend).
"""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _globs() -> list[str]:
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    globs: list[str] = cfg["tool"]["setuptools"]["package-data"]["*"]
    return globs


def test_every_data_file_matches_a_package_data_glob() -> None:
    globs = _globs()
    missed = [
        str(f.relative_to(ROOT))
        for f in sorted((ROOT / "src/jbgrade").rglob("*"))
        if f.is_file()
        and "__pycache__" not in f.parts
        and f.suffix not in (".py", ".pyc")
        and not any(fnmatch.fnmatch(f.name, g) for g in globs)
    ]
    assert missed == [], f"not packaged in the wheel: {missed}"


def test_vendored_schemas_have_their_licences_packaged() -> None:
    schemas = ROOT / "src/jbgrade/interop/data/schemas"
    licences = sorted(p.name for p in schemas.glob("LICENSE*"))
    assert {"LICENSE-csaf-2.0", "LICENSE-csaf-2.1", "LICENSE-sarif-spec.md"} <= set(licences)
    globs = _globs()
    assert all(any(fnmatch.fnmatch(n, g) for g in globs) for n in licences)
    # the check has teeth: an extension-less licence matches no file-type glob
    assert not any(fnmatch.fnmatch("LICENSE-x", g) for g in globs if g.startswith("*."))
