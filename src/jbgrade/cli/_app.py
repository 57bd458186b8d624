"""The root Typer app and the error policy of the CLI.

Bad input never shows a traceback: any :class:`~jbgrade.JbgradeError`, usage
error or unreadable file ends with exit code 2 and one line on stderr.
Set ``JBGRADE_DEBUG=1`` to see tracebacks of unexpected failures.
"""

from __future__ import annotations

import os
import sys

import typer

from jbgrade._errors import JbgradeError
from jbgrade.cli import (
    _admin,
    _assess,
    _calibrate,
    _campaign,
    _case,
    _crosswalk,
    _demo,
    _interop,
    _judge,
    _policy,
    _registry,
    _report,
    _rubric,
    _schema,
    _serve,
    _target,
)
from jbgrade.cli._common import one_line as _one_line

__all__ = ["app", "main"]

app = typer.Typer(
    name="jbgrade",
    help="Grade the severity of AI jailbreaks (JBG 1.0 and 1.1) and decide what must happen.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # `jbgrade --install-completion` / `--show-completion` (bash, zsh, fish, PowerShell).
    add_completion=True,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from jbgrade import __version__

        print(f"jbgrade {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(
        False,
        "--version",
        "-V",
        help="Print jbgrade's version and exit.",
        callback=_version,
        is_eager=True,
    ),
) -> None:
    """Grade the severity of AI jailbreaks (JBG 1.0) and decide what must happen."""


_rubric.register(app)
_schema.register(app)
_demo.register(app)
_serve.register(app)
_campaign.register(app)
_target.register(app)
_policy.register(app)
_registry.register(app)
_admin.register(app)
_assess.register(app)
_calibrate.register(app)
_report.register(app)
_crosswalk.register(app)
_interop.register(app)
_judge.register(app)
_case.register(app)


def main(argv: list[str] | None = None) -> None:
    """Console entry point."""
    debug = os.environ.get("JBGRADE_DEBUG") == "1"
    try:
        rv = app(args=argv, prog_name="jbgrade", standalone_mode=False)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.TyperException as exc:
        # Typer's own usage errors (it vendors click): one line, exit 2.
        if type(exc).__name__ == "NoArgsIsHelpError":
            print(exc.format_message(), file=sys.stderr)
            sys.exit(2)
        print(f"jbgrade: error: {_one_line(exc.format_message())}", file=sys.stderr)
        sys.exit(2 if exc.exit_code in (1, 2) else exc.exit_code)
    except typer.Abort:
        print("jbgrade: aborted", file=sys.stderr)
        sys.exit(130)
    except KeyboardInterrupt:
        print("jbgrade: interrupted", file=sys.stderr)
        sys.exit(130)
    except JbgradeError as exc:
        if debug:
            raise
        print(f"jbgrade: error: {_one_line(str(exc))}", file=sys.stderr)
        sys.exit(2)
    except OSError as exc:
        if debug:
            raise
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        print(f"jbgrade: error: {where}{_one_line(exc.strerror or str(exc))}", file=sys.stderr)
        sys.exit(2)
    except Exception as exc:
        if debug:
            raise
        print(
            f"jbgrade: internal error: {type(exc).__name__}: {_one_line(str(exc))} "
            "(set JBGRADE_DEBUG=1 for a traceback)",
            file=sys.stderr,
        )
        sys.exit(70)
    sys.exit(rv if isinstance(rv, int) else 0)
