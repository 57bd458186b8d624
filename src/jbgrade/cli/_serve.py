"""``jbgrade serve``: the API and web UI on one local port, over the case registry."""

from __future__ import annotations

import os
import secrets
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from jbgrade._errors import InputError, PermissionDeniedError

if TYPE_CHECKING:
    from jbgrade.registry import Keyring, Registry

__all__ = ["load_or_create_key", "register"]


def load_or_create_key(path: Path, nbytes: int = 32) -> bytes:
    """Read a random key from ``path``, creating it (mode 0600) on first use."""
    if path.exists():
        data = path.read_bytes()
        if len(data) < 16:
            raise InputError(f"{path}: key file is too short ({len(data)} bytes)")
        return data
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(nbytes)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
    return key


def serve(  # noqa: PLR0917 - one parameter per CLI option
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.", min=0, max=65535)] = 8000,
    db: Annotated[
        str | None,
        typer.Option(
            help="Database URL (default: $JBGRADE_DATABASE_URL, else SQLite in the data "
            "directory).",
        ),
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            help="Directory for the SQLite database and the session key (default: "
            "$JBGRADE_DATA_DIR, else ~/.local/share/jbgrade). The encryption key file "
            "lives apart: $JBGRADE_KEY_DIR, else ~/.config/jbgrade.",
        ),
    ] = None,
    key_file: Annotated[
        Path | None,
        typer.Option(
            "--key-file",
            help="Key file, as for the other registry commands (default: $JBGRADE_KEY, "
            "else $JBGRADE_KEY_FILE, else keys.json in $JBGRADE_KEY_DIR or "
            "~/.config/jbgrade, created on first use).",
            show_default=False,
        ),
    ] = None,
    admin_org: Annotated[
        str, typer.Option(help="Name of the first organisation, on an empty registry.")
    ] = "Registry administrators",
    admin_user: Annotated[
        str, typer.Option(help="Username of the first admin, on an empty registry.")
    ] = "admin",
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
    access_log: Annotated[bool, typer.Option(help="Log each request line (never bodies).")] = True,
) -> None:
    """Serve the HTTP API (/api/v1) and the web UI (/calculator, /cases).

    Applies database migrations, and on an empty registry creates the first
    organisation and admin, printing their password and API token once.
    """
    import uvicorn

    from jbgrade.api import Settings
    from jbgrade.cli._registry import check_sqlite_file, private_file
    from jbgrade.registry import Registry, default_data_dir, make_engine, upgrade
    from jbgrade.web import create_app

    # The port first: a busy port must fail before anything is created or printed.
    listener = _bind(host, port)
    ddir = data_dir or default_data_dir()
    ddir.mkdir(parents=True, exist_ok=True)
    url = db or os.environ.get("JBGRADE_DATABASE_URL") or f"sqlite:///{ddir / 'registry.db'}"
    db_file = check_sqlite_file(url, must_exist=False)
    keyring, new_key = _keyring(key_file, ddir)
    engine = make_engine(url)
    upgrade(engine)
    private_file(db_file)
    registry = Registry(engine, keyring)
    if new_key is not None:
        _save_new_key(registry, keyring, new_key)
    _bootstrap(registry, admin_org, admin_user)
    engine.dispose()
    others = [k for kid, k in keyring.keys.items() if kid != keyring.active]
    keys = (keyring.keys[keyring.active], *others)
    settings = Settings(
        db_url=url,
        secret_key=load_or_create_key(ddir / "session.key"),
        payload_keys=keys,
    )
    app = create_app(settings)
    bound = listener.getsockname()[1]
    print(f"jbgrade: serving on http://{host}:{bound}/calculator", file=sys.stderr, flush=True)
    config = uvicorn.Config(app, log_level=log_level, access_log=access_log)
    uvicorn.Server(config).run(sockets=[listener])


def _keyring(key_file: Path | None, ddir: Path) -> tuple[Keyring, Path | None]:
    """The keyring to serve with, and where to save it when it was just generated."""
    from jbgrade.cli._registry import default_keyring_file
    from jbgrade.registry import Keyring

    if key_file is not None or os.environ.get("JBGRADE_KEY") or os.environ.get("JBGRADE_KEY_FILE"):
        return Keyring.from_environment(key_file=key_file), None
    kpath = default_keyring_file(ddir)
    if kpath.exists():
        return Keyring.from_file(kpath), None
    return Keyring.generate(), kpath


def _save_new_key(registry: Registry, keyring: Keyring, new_key: Path) -> None:
    """Save a freshly generated key file, unless the registry holds values it cannot open."""
    # A fresh key next to a registry that already holds encrypted values would
    # open none of them (a key file left behind): say so and stop.
    lacking = sorted(registry.key_usage())
    if lacking:
        registry.engine.dispose()
        raise InputError(
            f"the registry holds values encrypted under {', '.join(lacking)} and there is "
            f"no key file at {new_key}: pass it with --key-file (or JBGRADE_KEY_FILE), "
            "or put it there"
        )
    new_key.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    keyring.save(new_key)
    print(f"jbgrade: created the encryption key file {new_key} (back it up)", file=sys.stderr)


def _bootstrap(registry: Registry, admin_org: str, admin_user: str) -> None:
    """On an empty registry: the first organisation and admin, their secrets printed once."""
    password = secrets.token_urlsafe(15)
    try:
        admin, token = registry.bootstrap(admin_org, admin_user, password=password)
    except PermissionDeniedError:
        return  # the registry already has users: nothing to print
    print(
        "jbgrade: created the first administrator. Shown once, store them now:\n"
        f"  organisation: {admin_org}\n"
        f"  username:     {admin.username}\n"
        f"  password:     {password}\n"
        f"  API token:    {token.token.get_secret_value()}",
        flush=True,
    )


def _bind(host: str, port: int) -> socket.socket:
    """Listen on host:port now (exit 2 with one line when it is taken)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, kind, proto, _, addr = infos[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(addr)
        sock.listen(2048)
    except OSError as exc:
        raise InputError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
