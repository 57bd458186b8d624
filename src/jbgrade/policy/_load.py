"""Policy profiles by name: the plug-in registry, shipped editions and file loading."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from jbgrade._errors import PolicyError, UnknownProfileError
from jbgrade._plugins import PluginRegistry
from jbgrade._yaml import MAX_YAML_BYTES, read_text_limited
from jbgrade.policy._parse import parse_profile
from jbgrade.policy._profile import Profile
from jbgrade.rubric import (
    VERSIONS,
    Tables,
    default_tables,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "PROFILES",
    "ProfileFactory",
    "ProfileOptions",
    "list_profiles",
    "load_all_profiles",
    "load_profile",
    "profile_edition",
]


#: Entry-point group through which other packages ship profiles. An entry point
#: resolves to a path (or a callable returning one) of a profile file or of a
#: directory of ``*.yaml`` profiles; the file stem is the profile name.
ENTRY_POINT_GROUP = "jbgrade.policy_profiles"


@cache
def _shipped() -> Mapping[str, str]:
    """Shipped profile name -> resource file name (package data: listed once, read-only)."""
    root = resources.files("jbgrade.policy").joinpath("data/profiles")
    out = {}
    for entry in root.iterdir():
        if entry.name.endswith(".yaml"):
            out[entry.name[: -len(".yaml")]] = entry.name
    return MappingProxyType(dict(sorted(out.items())))


class ProfileOptions(BaseModel):
    """Options of a policy-profile plug-in: the tables its conditions are read against."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    tables: Tables | None = Field(
        default=None, description="Rubric tables (None: the profile's own JBG version's)."
    )


#: A policy-profile plug-in: ``factory(ProfileOptions) -> Profile``.
ProfileFactory = Callable[[ProfileOptions], "Profile"]


def _shipped_factory(name: str) -> ProfileFactory:
    def make(opts: ProfileOptions) -> Profile:
        if opts.tables is not None and opts.tables is not default_tables():
            res = resources.files("jbgrade.policy").joinpath(f"data/profiles/{_shipped()[name]}")
            return parse_profile(res.read_text("utf-8"), f"{name}.yaml", opts.tables)
        return _load_shipped(name)

    return make


def _file_factory(name: str, path: Path) -> ProfileFactory:
    def make(opts: ProfileOptions) -> Profile:
        prof = load_profile(path, opts.tables)
        if prof.id != name:
            raise PolicyError(
                f"profile file declares id {prof.id!r}, not {name!r}", path=prof.source
            )
        return prof

    return make


def _expand_entry_point(ep_name: str, obj: Any) -> list[tuple[str, ProfileFactory]]:
    """An entry point resolves to a profile file or a directory of them (or a callable
    returning one); each file's stem is a profile name."""
    target = Path(str(obj() if callable(obj) else obj))
    files = (
        sorted(f for f in target.iterdir() if f.suffix in (".yaml", ".yml"))
        if target.is_dir()
        else [target]
    )
    return [(f.stem, _file_factory(f.stem, f)) for f in files]


#: Policy profiles by name: the plug-in kernel's registry. Shipped profiles are
#: built-ins; the ``jbgrade.policy_profiles`` entry-point group adds others (a name
#: taken twice is a :class:`~jbgrade.PluginError`).
PROFILES: PluginRegistry[ProfileFactory] = PluginRegistry(
    "policy-profile",
    ENTRY_POINT_GROUP,
    error=UnknownProfileError,
    expand=_expand_entry_point,
    options=ProfileOptions,
)
for _name in _shipped():
    PROFILES.add(_name, _shipped_factory(_name))


@cache
def _editions() -> Mapping[tuple[str, str], str]:
    """(profile name, JBG version) -> resource path of a shipped older edition."""
    out: dict[tuple[str, str], str] = {}
    base = resources.files("jbgrade.policy").joinpath("data/profiles")
    for ver in VERSIONS:
        d = base.joinpath(f"jbg-{ver}")
        if not d.is_dir():
            continue
        for entry in d.iterdir():
            if entry.name.endswith(".yaml"):
                out[entry.name[: -len(".yaml")], ver] = f"data/profiles/jbg-{ver}/{entry.name}"
    return MappingProxyType(dict(sorted(out.items())))


@cache
def profile_edition(name: str, version: str) -> Profile | None:
    """The edition of shipped profile ``name`` that reads JBG ``version`` grades, if any.

    The current edition (``data/profiles/NAME.yaml``) when it is for ``version``;
    else a frozen older edition (``data/profiles/jbg-VERSION/NAME.yaml``), kept so
    that grades of that version can still be decided and earlier decisions replayed
    (same bundle hash).
    """
    if name in _shipped():
        cur = _load_shipped(name)
        if cur.tables.version == version:
            return cur
    rel = _editions().get((name, version))
    if rel is None:
        return None
    res = resources.files("jbgrade.policy").joinpath(rel)
    prof = parse_profile(res.read_text("utf-8"), f"jbgrade/policy/{rel}")
    if prof.id != name:
        raise PolicyError(f"shipped profile edition {rel} declares id {prof.id!r}")
    return prof


def list_profiles() -> list[str]:
    """Names ``--profile NAME`` accepts: shipped profiles and entry-point ones."""
    return PROFILES.names()


@cache
def _load_shipped(name: str) -> Profile:
    res = resources.files("jbgrade.policy").joinpath(f"data/profiles/{_shipped()[name]}")
    prof = parse_profile(res.read_text("utf-8"), f"jbgrade/policy/data/profiles/{name}.yaml")
    if prof.id != name:
        raise PolicyError(f"shipped profile file {name}.yaml declares id {prof.id!r}")
    return prof


@lru_cache(maxsize=256)
def _load_file(path: str, mtime_ns: int, size: int) -> Profile:
    # Keyed by modification time and size so an edited file is re-read.
    text = read_text_limited(path, max_bytes=MAX_YAML_BYTES, what="profile", cls=PolicyError)
    return parse_profile(text, path)


def _looks_like_path(ref: str) -> bool:
    return ref.endswith((".yaml", ".yml")) or "/" in ref or "\\" in ref


def load_profile(ref: str | Path | Profile, tables: Tables | None = None) -> Profile:
    """A profile by name (shipped or from the entry-point group), or a profile file by path.

    Unknown names raise :class:`~jbgrade.UnknownProfileError` listing the
    available ones; malformed files raise :class:`~jbgrade.PolicyError` with
    ``file:line``.
    """
    if isinstance(ref, Profile):
        return ref
    custom = tables is not None and tables is not default_tables()
    # A shipped name always means the shipped profile (a stray file of that name in the
    # working directory must not change a decision); anything else may be a file path.
    if (
        isinstance(ref, Path)
        or _looks_like_path(ref)
        or (ref not in _shipped() and os.path.isfile(ref))
    ):
        p = Path(ref)
        try:
            st = p.stat()
        except FileNotFoundError as exc:
            raise PolicyError("no such profile file", path=str(p)) from exc
        except OSError as exc:
            raise PolicyError(f"cannot read profile: {exc}", path=str(p)) from exc
        if p.is_dir():
            raise PolicyError("a profile must be a file, not a directory", path=str(p))
        if custom:
            text = read_text_limited(p, max_bytes=MAX_YAML_BYTES, what="profile", cls=PolicyError)
            return parse_profile(text, str(p), tables)
        return _load_file(str(p), st.st_mtime_ns, st.st_size)
    if ref in PROFILES:
        prof: Profile = PROFILES.create(ref, {"tables": tables if custom else None})
        return prof
    raise UnknownProfileError(
        f"unknown profile {ref!r}; available: {', '.join(list_profiles())} "
        "(or give a path to a profile .yaml file)"
    )


def load_all_profiles() -> dict[str, Profile]:
    """Every available profile (shipped and entry-point), by name (in name order)."""
    return {name: load_profile(name) for name in list_profiles()}
