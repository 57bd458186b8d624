"""The ``jbgrade`` command line (Typer). Depends on everything; nothing depends on it."""

from jbgrade.cli._app import app, main

__all__ = ["app", "main"]
