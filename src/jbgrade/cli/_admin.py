"""``jbgrade org | user | token``: manage organisations, users, roles and tokens.

Each command acts as a registry user (``--as USERNAME``; default: the oldest
active super-administrator), so the permission table applies and the audit log
records the act under that user, exactly as over HTTP.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any

import typer

from jbgrade._errors import NotFoundError
from jbgrade.cli._common import out_console, print_json
from jbgrade.cli._registry import DbOpt, open_registry

if TYPE_CHECKING:
    from pydantic import BaseModel

    from jbgrade.registry import Actor, Registry

__all__ = ["register"]

AsOpt = Annotated[
    str | None,
    typer.Option(
        "--as",
        help="Act as this user (default: the oldest active superadmin).",
        show_default=False,
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
UserArg = Annotated[str, typer.Argument(help="Username or id.")]


@contextmanager
def _acting(db: str | None, as_user: str | None) -> Iterator[tuple[Registry, Actor]]:
    """The registry (no key needed) and the user the command acts as."""
    with open_registry(db, None, need_key=False) as reg:
        yield reg, reg.operator(as_user)


def _emit(record: BaseModel, as_json: bool, text: str, **secret: Any) -> None:
    """Print ``record`` as JSON (with ``secret`` values shown once), else ``text``
    (plain ``print``: a secret is never wrapped)."""
    if as_json:
        print_json(record.model_dump(mode="json") | secret)
    elif secret:
        print(text)
    else:
        out_console.print(text, markup=False)


def _table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())


def org_list(db: DbOpt = None, as_user: AsOpt = None, as_json: JsonOpt = False) -> None:
    """List organisations."""
    with _acting(db, as_user) as (reg, actor):
        orgs = reg.list_orgs(actor)
    if as_json:
        print_json([o.model_dump(mode="json") for o in orgs])
        return
    _table([(o.id, o.kind, o.name) for o in orgs], ("ID", "KIND", "NAME"))


def org_add(
    name: Annotated[str, typer.Argument(help="Unique name, e.g. the second party's.")],
    kind: Annotated[
        str, typer.Option(help="lab, government, research, platform or other.")
    ] = "other",
    db: DbOpt = None,
    as_user: AsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create an organisation (superadmin)."""
    with _acting(db, as_user) as (reg, actor):
        org = reg.create_org(actor, name, kind=kind)
    _emit(org, as_json, f"created organisation {org.id} ({org.name})")


def _org_id(reg: Registry, actor: Actor, org: str) -> str:
    for o in reg.list_orgs(actor):
        if org in (o.id, o.name):
            return o.id
    raise NotFoundError(f"organisation {org!r} not found (by id or name)")


def _user_id(reg: Registry, actor: Actor, user: str) -> str:
    for u in reg.list_users(actor):
        if user in (u.id, u.username):
            return u.id
    raise NotFoundError(f"user {user!r} not found (by id or username)")


def user_list(
    org: Annotated[str | None, typer.Option(help="Only this organisation (id or name).")] = None,
    db: DbOpt = None,
    as_user: AsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List the users the acting user may see."""
    with _acting(db, as_user) as (reg, actor):
        oid = _org_id(reg, actor, org) if org else None
        users = reg.list_users(actor, org_id=oid)
    if as_json:
        print_json([u.model_dump(mode="json") for u in users])
        return
    _table(
        [(u.username, u.role, "yes" if u.active else "no", u.org_id) for u in users],
        ("USERNAME", "ROLE", "ACTIVE", "ORGANISATION"),
    )


def user_add(  # noqa: PLR0917 - one parameter per CLI option
    username: Annotated[str, typer.Argument(help="Unique login name.")],
    org: Annotated[str, typer.Option(help="Organisation (id or name).")],
    role: Annotated[
        str, typer.Option(help="reporter, assessor, regulator, admin or superadmin.")
    ] = "reporter",
    db: DbOpt = None,
    as_user: AsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a user, with a first password shown once."""
    import secrets

    password = secrets.token_urlsafe(15)
    with _acting(db, as_user) as (reg, actor):
        u = reg.create_user(actor, _org_id(reg, actor, org), username, role, password=password)
    text = f"created {u.role} {u.username} ({u.id}); password (shown once): {password}"
    _emit(u, as_json, text, password=password)


def user_role(
    user: UserArg,
    role: Annotated[str, typer.Argument(help="The new role.")],
    db: DbOpt = None,
    as_user: AsOpt = None,
) -> None:
    """Change a user's role."""
    with _acting(db, as_user) as (reg, actor):
        u = reg.set_role(actor, _user_id(reg, actor, user), role)
    out_console.print(f"{u.username} is now {u.role}", markup=False)


def _set_active(user: str, active: bool, db: str | None, as_user: str | None) -> None:
    with _acting(db, as_user) as (reg, actor):
        u = reg.set_user_active(actor, _user_id(reg, actor, user), active)
    out_console.print(f"{u.username} {'activated' if active else 'deactivated'}", markup=False)


def user_deactivate(
    user: UserArg,
    db: DbOpt = None,
    as_user: AsOpt = None,
) -> None:
    """Deactivate a user: their tokens and sessions stop working at once."""
    _set_active(user, False, db, as_user)


def user_activate(
    user: UserArg,
    db: DbOpt = None,
    as_user: AsOpt = None,
) -> None:
    """Reactivate a deactivated user."""
    _set_active(user, True, db, as_user)


def token_issue(  # noqa: PLR0917 - one parameter per CLI option
    user: UserArg,
    name: Annotated[str, typer.Option(help="Label, e.g. the tool that uses it.")] = "",
    days: Annotated[int | None, typer.Option(help="Lifetime in days.", min=1)] = None,
    db: DbOpt = None,
    as_user: AsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Issue an API token (shown once)."""
    with _acting(db, as_user) as (reg, actor):
        tok = reg.issue_token(
            actor,
            _user_id(reg, actor, user),
            name=name,
            expires_in=timedelta(days=days) if days else None,
        )
    secret = tok.token.get_secret_value()
    _emit(tok, as_json, f"token {tok.id} for {user} (shown once): {secret}", token=secret)


def token_revoke(
    token_id: Annotated[str, typer.Argument(help="Token id (tok_...).")],
    db: DbOpt = None,
    as_user: AsOpt = None,
) -> None:
    """Revoke an API token."""
    with _acting(db, as_user) as (reg, actor):
        reg.revoke_token(actor, token_id)
    out_console.print(f"revoked {token_id}", markup=False)


def register(app: typer.Typer) -> None:
    org = typer.Typer(help="Organisations of the registry.", no_args_is_help=True)
    org.command("list")(org_list)
    org.command("add")(org_add)
    app.add_typer(org, name="org")
    user = typer.Typer(help="Users, roles and deactivation.", no_args_is_help=True)
    user.command("list")(user_list)
    user.command("add")(user_add)
    user.command("role")(user_role)
    user.command("deactivate")(user_deactivate)
    user.command("activate")(user_activate)
    app.add_typer(user, name="user")
    token = typer.Typer(help="API tokens.", no_args_is_help=True)
    token.command("issue")(token_issue)
    token.command("revoke")(token_revoke)
    app.add_typer(token, name="token")
