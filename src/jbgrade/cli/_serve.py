"""``jbgrade serve``: the API and web UI on one local port."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path
from typing import Annotated

import typer

from jbgrade._errors import InputError

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
            help="Database URL (default: $JBGRADE_DB_URL, else SQLite in the data directory).",
        ),
    ] = None,
    data_dir: Annotated[
        Path,
        typer.Option(help="Directory for the SQLite database and the server's key files."),
    ] = Path("jbgrade-data"),
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
    access_log: Annotated[bool, typer.Option(help="Log each request line (never bodies).")] = True,
) -> None:
    """Start the HTTP API (/api/v1) and the web UI (/calculator, /cases) with uvicorn."""
    import uvicorn

    from jbgrade.api import Settings
    from jbgrade.web import create_app

    data_dir.mkdir(parents=True, exist_ok=True)
    secret = load_or_create_key(data_dir / "session.key")
    db_url = db or os.environ.get("JBGRADE_DB_URL")
    settings = Settings(db_url=db_url, secret_key=secret)
    app = create_app(settings)
    print(f"jbgrade: serving on http://{host}:{port}/calculator", file=sys.stderr)
    uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=access_log)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
