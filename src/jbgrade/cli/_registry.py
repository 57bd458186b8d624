"""``jbgrade db upgrade | create-app-role``, ``jbgrade audit verify``,
``jbgrade keys generate | rotate | status``.

The registry needs the ``server`` extra; it is imported inside each command so
the rest of the CLI works without it.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from jbgrade._errors import InputError, KeyringError
from jbgrade.cli._common import out_console, print_json, warn

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from jbgrade.registry import Registry

__all__ = [
    "check_sqlite_file",
    "default_keyring_file",
    "open_registry",
    "private_file",
    "register",
    "sqlite_path",
]

DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL (default: $JBGRADE_DATABASE_URL, else SQLite in the data directory).",
        show_default=False,
    ),
]
KeyFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--key-file",
        help="Key file (default: $JBGRADE_KEY, else $JBGRADE_KEY_FILE, else keys.json in "
        "$JBGRADE_KEY_DIR or ~/.config/jbgrade).",
        show_default=False,
    ),
]


_SQLITE_MAGIC = b"SQLite format 3\x00"


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (None for other databases and in-memory SQLite)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        u = make_url(url)
    except ArgumentError:
        return None
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    return Path(u.database).expanduser()


def check_sqlite_file(url: str, *, must_exist: bool) -> Path | None:
    """Refuse a mistyped path (no directory or empty database is created) and a file
    that is not a SQLite database (never overwritten)."""
    path = sqlite_path(url)
    if path is None:
        return None
    if not path.exists():
        if must_exist:
            raise InputError(
                f"no registry database at {path} (create one with `jbgrade db upgrade`)"
            )
        return path
    if path.is_dir():
        raise InputError(f"{path} is a directory, not a registry database")
    with path.open("rb") as fh:
        head = fh.read(len(_SQLITE_MAGIC))
    if head and head != _SQLITE_MAGIC:
        raise InputError(f"{path} is not a SQLite database: refusing to use or overwrite it")
    return path


def private_file(path: Path | None) -> None:
    """Make a registry database readable by its owner only (it holds case data)."""
    if path is not None and path.exists():
        path.chmod(0o600)


def _engine(db: str | None, *, must_exist: bool = True) -> Engine:
    from jbgrade.registry import make_engine, resolve_database_url

    url = resolve_database_url(db)
    check_sqlite_file(url, must_exist=must_exist)
    return make_engine(url)


def default_keyring_file(data_dir: Path | None = None) -> Path:
    """The default key file (``default_key_file()``), after moving the key file an older
    install kept beside the database into it (design 0201), saying so on stderr."""
    from jbgrade.registry import (
        KEY_FILE_NAME,
        default_data_dir,
        default_key_file,
        move_legacy_key_file,
    )

    target = default_key_file()
    ddir = data_dir or default_data_dir()
    old = move_legacy_key_file(ddir, target)
    if old is not None:
        warn(
            f"moved the key file {old} to {target}: a copy of the data directory no longer "
            "carries the key (back the key file up on its own)"
        )
        return target
    legacy = ddir / KEY_FILE_NAME
    if legacy.is_file() and target.is_file() and legacy.resolve() != target.resolve():
        if legacy.read_bytes() != target.read_bytes():
            raise InputError(
                f"two different key files: {legacy} (beside the database, the old place) and "
                f"{target}: pass the one this registry uses with --key-file, or merge them"
            )
        warn(f"{legacy} is a copy of {target}: delete it (the key belongs apart from the data)")
    return target


def open_registry(db: str | None, key_file: Path | None, *, need_key: bool) -> Registry:
    """The registry behind ``--db`` (which must exist); a keyring only when needed or a
    key file is given."""
    from jbgrade.registry import Keyring, Registry

    ring = None
    if need_key or key_file is not None:
        default = None if key_file is not None or _key_in_env() else default_keyring_file()
        ring = Keyring.from_environment(key_file=key_file, default=default)
    return Registry(_engine(db), ring)


def _key_in_env() -> bool:
    return bool(os.environ.get("JBGRADE_KEY") or os.environ.get("JBGRADE_KEY_FILE"))


def db_upgrade(db: DbOpt = None) -> None:
    """Create or migrate the registry database to the current schema."""
    from jbgrade.registry import redact_url, upgrade

    eng = _engine(db, must_exist=False)
    try:
        rev = upgrade(eng)
    finally:
        eng.dispose()
    private_file(sqlite_path(eng.url.render_as_string(False)))
    out_console.print(
        f"database at revision {rev}: {redact_url(eng.url.render_as_string(False))}",
        markup=False,
    )


def db_create_app_role(
    name: Annotated[str, typer.Argument(help="Role name, e.g. jbgrade_app.")],
    db: DbOpt = None,
    password_env: Annotated[
        str | None,
        typer.Option(help="Name of an environment variable holding the role's password."),
    ] = None,
    schema: Annotated[str, typer.Option(help="Schema of the registry tables.")] = "public",
) -> None:
    """PostgreSQL: create the application's login role, which cannot UPDATE, DELETE or
    TRUNCATE audit rows. Run as the database owner after `db upgrade`."""
    from jbgrade.registry import create_app_role

    password = None
    if password_env is not None:
        password = os.environ.get(password_env)
        if not password:
            raise InputError(f"environment variable {password_env} is empty or unset")
    eng = _engine(db)
    try:
        create_app_role(eng, name, password=password, schema=schema)
    finally:
        eng.dispose()
    out_console.print(
        f"role {name}: may read and write the registry; audit_log is insert-only",
        markup=False,
    )


def audit_verify(
    db: DbOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    anchor: Annotated[
        str | None,
        typer.Option(help="SEQ:SHA256 of an entry recorded earlier; checks it is still there."),
    ] = None,
) -> None:
    """Verify the hash-chained audit log and its binding to the data.

    Exit 0 and a summary when intact; exit 1 and one line per problem (the first
    broken link first) when not.
    """
    anc = None
    if anchor is not None:
        m = re.fullmatch(r"(\d+):([0-9a-f]{64})", anchor)
        if m is None:
            raise InputError("--anchor must be SEQ:SHA256 (64 lowercase hex digits)")
        anc = (int(m.group(1)), m.group(2))
    with open_registry(db, None, need_key=False) as reg:
        report = reg.verify_audit(anchor=anc)
    if as_json:
        print_json(report.to_dict())
    elif report.ok:
        out_console.print(report.summary(), markup=False)
    else:
        for p in report.problems:
            print(f"jbgrade: audit: {p}", file=sys.stderr)
    if not report.ok:
        raise typer.Exit(1)


def keys_generate(
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write a new key file (mode 0600) instead of printing a key."),
    ] = None,
) -> None:
    """Make a new 256-bit key: printed as base64 (for JBGRADE_KEY) or written as a key file."""
    from jbgrade.registry import Keyring, generate_key

    if out is None:
        print(generate_key())
        return
    if out.exists():
        raise InputError(f"{out} exists: refusing to overwrite a key file")
    ring = Keyring.generate()
    ring.save(out)
    out_console.print(f"wrote key file {out} (active key {ring.active})", markup=False)


def keys_rotate(
    db: DbOpt = None,
    key_file: KeyFileOpt = None,
    prune: Annotated[
        bool, typer.Option(help="Drop keys no ciphertext needs any more from the key file.")
    ] = False,
) -> None:
    """Re-encrypt every payload and transcript under a new key.

    With a key file: a new key is added to it and made active (the old keys stay
    until --prune), then everything is re-encrypted. With JBGRADE_KEY: put the new
    key first (JBGRADE_KEY=NEW,OLD; see `keys generate`) and run this; then drop OLD.
    """

    path = key_file or (
        Path(os.environ["JBGRADE_KEY_FILE"])
        if os.environ.get("JBGRADE_KEY_FILE") and not os.environ.get("JBGRADE_KEY")
        else None
    )
    if path is None and not _key_in_env():
        path = default_keyring_file()  # the one `jbgrade serve` uses (design 0201)
    with open_registry(db, path, need_key=True) as reg:
        _rotate(reg, path, prune=prune)


def _rotate(reg: Registry, path: Path | None, *, prune: bool) -> None:
    ring = reg.keyring
    assert ring is not None
    if path is not None:
        ring = ring.with_new_active()
        ring.save(path)  # saved first: a crash mid-way leaves every value decryptable
    missing = sorted(set(reg.key_usage()) - set(ring.keys))
    if missing:
        raise KeyringError(f"ciphertexts need key(s) {', '.join(missing)}, absent from the keyring")
    n = reg.rotate_keys(ring)
    usage = reg.key_usage()
    if prune and path is not None:
        ring = ring.only(*usage)
        ring.save(path)
    out_console.print(
        f"re-encrypted {n} value(s) under key {ring.active}; keys in use: "
        + (", ".join(f"{k} ({v})" for k, v in sorted(usage.items())) or "none"),
        markup=False,
    )


def keys_status(
    db: DbOpt = None,
    key_file: KeyFileOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Which keys encrypt how many values, and whether the keyring holds them."""
    from jbgrade.registry import Keyring

    with open_registry(db, None, need_key=False) as reg:
        usage = reg.key_usage()
    # The key file given, else the environment's, else the default one `jbgrade serve`
    # creates (design 0201); whichever it is must load (a garbage key file is an error,
    # not "every key MISSING").
    ring: Keyring | None = None
    if key_file is not None or _key_in_env():
        ring = Keyring.from_environment(key_file=key_file)
    else:
        served = default_keyring_file()
        if served.exists():
            ring = Keyring.from_file(served)
    if as_json:
        print_json(
            {
                "active": ring.active if ring is not None else None,
                "keys": [
                    {"id": kid, "values": n, "held": ring is not None and kid in ring.keys}
                    for kid, n in sorted(usage.items())
                ],
            }
        )
        return
    for kid, n in sorted(usage.items()):
        held = "held" if ring is not None and kid in ring.keys else "MISSING"
        active = " (active)" if ring is not None and kid == ring.active else ""
        print(f"{kid}\t{n}\t{held}{active}")
    if not usage:
        out_console.print("no encrypted values", markup=False)


def register(app: typer.Typer) -> None:
    db = typer.Typer(help="The registry database: migrations and roles.", no_args_is_help=True)
    db.command("upgrade")(db_upgrade)
    db.command("create-app-role")(db_create_app_role)
    app.add_typer(db, name="db")
    audit = typer.Typer(help="The registry's hash-chained audit log.", no_args_is_help=True)
    audit.command("verify")(audit_verify)
    app.add_typer(audit, name="audit")
    keys = typer.Typer(help="Encryption keys of payloads and transcripts.", no_args_is_help=True)
    keys.command("generate")(keys_generate)
    keys.command("rotate")(keys_rotate)
    keys.command("status")(keys_status)
    app.add_typer(keys, name="keys")
