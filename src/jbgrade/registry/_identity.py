"""Identity aggregate: organisations, users, roles, passwords, API tokens and sessions."""

from __future__ import annotations

import hmac
import re
import secrets
from datetime import timedelta
from functools import cache
from typing import Literal

import sqlalchemy as sa
from pydantic import SecretStr
from sqlalchemy.orm import Session

from jbgrade._errors import (
    AuthenticationError,
    ConflictError,
    InputError,
    NotFoundError,
    PermissionDeniedError,
    RegistryError,
)
from jbgrade.registry._context import (
    _USERNAME,
    ORG_KINDS,
    RegistryContext,
    _check_password,
    _hash_password,
    _text,
)
from jbgrade.registry._models import (
    ApiToken,
    Organization,
    User,
)
from jbgrade.registry._tables import ROLES
from jbgrade.registry._util import new_id, row_view, sha256_hex
from jbgrade.registry._views import (
    Actor,
    IssuedToken,
    OrgView,
    UserView,
)

__all__ = ["IdentityStore"]


class IdentityStore(RegistryContext):
    # -- organisations and users ---------------------------------------------------
    @staticmethod
    def _org_view(o: Organization) -> OrgView:
        return OrgView(id=o.id, name=o.name, kind=o.kind, created_at=o.created_at)

    @staticmethod
    def _user_view(u: User) -> UserView:
        return row_view(UserView, u, has_password=u.password_hash is not None)

    @staticmethod
    def _actor(u: User) -> Actor:
        return Actor(user_id=u.id, org_id=u.org_id, role=u.role, username=u.username)  # type: ignore[arg-type]

    @staticmethod
    def actor_of(user: UserView) -> Actor:
        """The actor a user acts as."""
        return Actor(user_id=user.id, org_id=user.org_id, role=user.role, username=user.username)

    def _new_org(self, s: Session, actor: Actor | str, name: str, kind: str) -> Organization:
        name = _text(name, "name", max_len=200, required=True).strip()
        if kind not in ORG_KINDS:
            raise InputError(f"unknown kind {kind!r} (known: {', '.join(ORG_KINDS)})", field="kind")
        if s.execute(sa.select(Organization.id).where(Organization.name == name)).first():
            raise ConflictError(f"an organisation named {name!r} exists")
        o = Organization(id=new_id("org"), name=name, kind=kind, created_at=self._now())
        s.add(o)
        self._log(s, actor, "org.create", o)
        return o

    def _new_user(
        self,
        s: Session,
        *,
        actor: Actor | str,
        org_id: str,
        username: str,
        role: str,
        display_name: str,
        password: str | None,
    ) -> User:
        if not isinstance(username, str) or not _USERNAME.match(username):
            raise InputError(
                "1-100 letters, digits or . _ @ -, starting with a letter or digit",
                field="username",
            )
        if role not in ROLES:
            raise InputError(f"unknown role {role!r} (known: {', '.join(ROLES)})", field="role")
        if s.get(Organization, org_id) is None:
            raise NotFoundError(f"organisation {org_id} not found")
        if s.execute(sa.select(User.id).where(User.username == username)).first():
            raise ConflictError(f"a user named {username!r} exists")
        if password is not None:
            self._check_password_policy(password)
        u = User(
            id=new_id("usr"),
            org_id=org_id,
            username=username,
            display_name=_text(display_name or username, "display_name", max_len=200),
            role=role,
            password_hash=_hash_password(password) if password is not None else None,
            active=True,
            created_at=self._now(),
        )
        s.add(u)
        self._log(s, actor, "user.create", u)
        return u

    @staticmethod
    def _check_password_policy(password: str) -> None:
        if not isinstance(password, str) or len(password) < 12 or len(password) > 1000:
            raise InputError("a password needs 12 to 1000 characters", field="password")

    def bootstrap(
        self,
        org_name: str,
        username: str,
        *,
        display_name: str = "",
        org_kind: str = "other",
        password: str | None = None,
    ) -> tuple[Actor, IssuedToken]:
        """Create the first organisation and its super-administrator (role
        ``superadmin``) on an empty registry, with an API token shown once. Refused
        once any user exists."""
        with self._write() as s:
            if s.execute(sa.select(User.id).limit(1)).first():
                raise PermissionDeniedError("the registry already has users: bootstrap refused")
            o = self._new_org(s, "system:bootstrap", org_name, org_kind)
            u = self._new_user(
                s,
                actor="system:bootstrap",
                org_id=o.id,
                username=username,
                role="superadmin",
                display_name=display_name,
                password=password,
            )
            actor = self._actor(u)
            tok = self._new_token(s, actor=actor, user=u, kind="api", name="bootstrap", ttl=None)
        return actor, tok

    def create_org(self, actor: Actor, name: str, *, kind: str = "other") -> OrgView:
        """Create an organisation (the super-administrator)."""
        with self._write() as s:
            self._check_actor(s, actor)
            if not self._perms.allowed("org.create", actor.role, {"any"}):
                raise self._refusal(
                    PermissionDeniedError(f"role {actor.role} may not org.create"),
                    actor,
                    "org.create",
                    User,
                    None,
                )
            return self._org_view(self._new_org(s, actor, name, kind))

    def list_orgs(self, actor: Actor) -> list[OrgView]:
        with self._read() as s:
            self._check_actor(s, actor)
            self._require(actor, "org.read")
            rows = s.execute(sa.select(Organization).order_by(Organization.name)).scalars()
            return [self._org_view(o) for o in rows]

    def get_org(self, actor: Actor, org_id: str) -> OrgView:
        with self._read() as s:
            self._check_actor(s, actor)
            self._require(actor, "org.read")
            o = s.get(Organization, org_id)
            if o is None:
                raise NotFoundError(f"organisation {org_id} not found")
            return self._org_view(o)

    def create_user(
        self,
        actor: Actor,
        org_id: str,
        username: str,
        role: str,
        *,
        display_name: str = "",
        password: str | None = None,
    ) -> UserView:
        """Create a user: an admin in their own organisation, the super-administrator
        in any. Only a super-administrator creates another super-administrator."""
        with self._write() as s:
            self._check_actor(s, actor)
            rels = {"same_org"} if org_id == actor.org_id else {"other"}
            if not self._perms.allowed("user.create", actor.role, rels) or (
                role == "superadmin" and actor.role != "superadmin"
            ):
                raise self._refusal(
                    PermissionDeniedError(
                        f"role {actor.role} may not create a {role} in organisation {org_id}"
                    ),
                    actor,
                    "user.create",
                    Organization,
                    org_id if isinstance(org_id, str) else None,
                )
            return self._user_view(
                self._new_user(
                    s,
                    actor=actor,
                    org_id=org_id,
                    username=username,
                    role=role,
                    display_name=display_name,
                    password=password,
                )
            )

    def _user_relations(self, actor: Actor, u: User | None, user_id: object) -> set[str]:
        if user_id == actor.user_id:
            return {"self", "same_org"}
        if u is not None and u.org_id == actor.org_id:
            return {"same_org"}
        return {"other"}

    def _user_target(self, s: Session, actor: Actor, user_id: str, action: str) -> User:
        """The user ``action`` is about, if the actor may act on them: within the
        actor's own organisation (admins) or anywhere (the super-administrator).
        A refused write is audited under the acting user."""
        self._check_actor(s, actor)
        u = s.get(User, user_id) if isinstance(user_id, str) else None
        rels = self._user_relations(actor, u, user_id)
        if u is not None and self._perms.allowed(action, actor.role, rels):
            return u
        exc: RegistryError = NotFoundError(f"user {user_id} not found")
        if u is not None and self._perms.allowed("user.read", actor.role, rels):
            exc = PermissionDeniedError(f"role {actor.role} may not {action} for user {user_id}")
        if u is not None and action != "user.read":
            raise self._refusal(exc, actor, action, User, u.id)
        raise exc

    def get_user(self, actor: Actor, user_id: str) -> UserView:
        with self._read() as s:
            return self._user_view(self._user_target(s, actor, user_id, "user.read"))

    def list_users(self, actor: Actor, *, org_id: str | None = None) -> list[UserView]:
        """Users the actor may read: every one (the super-administrator), the own
        organisation's (an admin), oneself (others); optionally of one organisation."""
        with self._read() as s:
            self._check_actor(s, actor)
            stmt = sa.select(User).order_by(User.username)
            if self._perms.allowed("user.read", actor.role, {"other"}):
                pass
            elif self._perms.allowed("user.read", actor.role, {"same_org"}):
                stmt = stmt.where(User.org_id == actor.org_id)
            else:
                stmt = stmt.where(User.id == actor.user_id)
            if org_id is not None:
                stmt = stmt.where(User.org_id == org_id)
            return [self._user_view(u) for u in s.execute(stmt).scalars()]

    def set_password(self, actor: Actor, user_id: str, password: str) -> None:
        """Set a login password (the user themself, or an admin)."""
        self._check_password_policy(password)
        with self._write() as s:
            u = self._user_target(s, actor, user_id, "user.set_password")
            u.password_hash = _hash_password(password)
            self._log(s, actor, "user.set_password", u)

    def set_user_active(self, actor: Actor, user_id: str, active: bool) -> UserView:
        """Deactivate (or reactivate) a user: their tokens and sessions stop working."""
        if user_id == actor.user_id:
            raise InputError("you cannot deactivate yourself", field="user_id")
        with self._write() as s:
            u = self._user_target(s, actor, user_id, "user.set_active")
            if u.role == "superadmin" and actor.role != "superadmin":
                raise self._refusal(
                    PermissionDeniedError("only a super-administrator may do this"),
                    actor,
                    "user.set_active",
                    User,
                    u.id,
                )
            u.active = bool(active)
            self._log(s, actor, "user.activate" if active else "user.deactivate", u)
            return self._user_view(u)

    def set_role(self, actor: Actor, user_id: str, role: str) -> UserView:
        """Change a user's role: an admin within their own organisation, never to or
        from ``superadmin`` (only a super-administrator may), never one's own."""
        if role not in ROLES:
            raise InputError(f"unknown role {role!r} (known: {', '.join(ROLES)})", field="role")
        if user_id == actor.user_id:
            raise InputError("you cannot change your own role", field="user_id")
        with self._write() as s:
            u = self._user_target(s, actor, user_id, "user.set_role")
            if "superadmin" in (role, u.role) and actor.role != "superadmin":
                raise self._refusal(
                    PermissionDeniedError("only a super-administrator may do this"),
                    actor,
                    "user.set_role",
                    User,
                    u.id,
                )
            u.role = role
            self._log(s, actor, "user.set_role", u)
            return self._user_view(u)

    def operator(self, username: str | None = None) -> Actor:
        """The actor a local operator (the CLI, holding the database) acts as: the
        named active user, else the oldest active super-administrator. Every act
        is then checked and audited as that user's."""
        with self._read() as s:
            stmt = sa.select(User).where(User.active.is_(True))
            if username is not None:
                stmt = stmt.where(User.username == username)
            else:
                stmt = stmt.where(User.role == "superadmin").order_by(User.created_at, User.id)
            u = s.execute(stmt.limit(1)).scalar_one_or_none()
            if u is None:
                who = f"active user {username!r}" if username else "active superadmin"
                raise NotFoundError(f"no {who} in the registry (run `jbgrade serve` once)")
            return self._actor(u)

    # -- tokens, sessions, passwords -----------------------------------------------
    def _new_token(
        self,
        s: Session,
        *,
        actor: Actor,
        user: User,
        kind: Literal["api", "session"],
        name: str,
        ttl: timedelta | None,
    ) -> IssuedToken:
        prefix = secrets.token_hex(8)
        secret = secrets.token_urlsafe(32)
        token = f"{'jbg' if kind == 'api' else 'jbs'}_{prefix}_{secret}"
        now = self._now()
        row = ApiToken(
            id=new_id("tok"),
            user_id=user.id,
            kind=kind,
            name=_text(name, "name", max_len=200),
            prefix=prefix,
            token_sha256=sha256_hex(token),
            created_at=now,
            expires_at=now + ttl if ttl is not None else None,
            revoked_at=None,
        )
        s.add(row)
        self._log(s, actor, "token.issue" if kind == "api" else "session.create", row)
        return IssuedToken(
            id=row.id,
            user_id=user.id,
            kind=kind,
            name=row.name,
            token=SecretStr(token),
            expires_at=row.expires_at,
        )

    def issue_token(
        self,
        actor: Actor,
        user_id: str | None = None,
        *,
        name: str = "",
        expires_in: timedelta | None = None,
    ) -> IssuedToken:
        """Issue an API token (for oneself; by an admin for a user of their own
        organisation; by the super-administrator for anyone)."""
        with self._write() as s:
            u = self._user_target(s, actor, user_id or actor.user_id, "token.issue")
            return self._new_token(s, actor=actor, user=u, kind="api", name=name, ttl=expires_in)

    def revoke_token(self, actor: Actor, token_id: str) -> None:
        with self._write() as s:
            self._check_actor(s, actor)
            row = s.get(ApiToken, token_id)
            if row is None:
                raise NotFoundError(f"token {token_id} not found")
            self._user_target(s, actor, row.user_id, "token.revoke")
            if row.revoked_at is None:
                row.revoked_at = self._now()
                self._log(s, actor, "token.revoke", row)

    def _valid_token(
        self, s: Session, token: str, kind: Literal["api", "session"]
    ) -> tuple[ApiToken, User]:
        """The token's row and user, checked (format, hash, kind, revoked, expiry, account)."""
        what = "API token" if kind == "api" else "session"
        m = re.fullmatch(r"(jbg|jbs)_([0-9a-f]{16})_([A-Za-z0-9_-]{43})", token or "")
        if m is None or (m.group(1) == "jbg") != (kind == "api"):
            raise AuthenticationError(f"malformed {what}")
        row = s.execute(
            sa.select(ApiToken).where(ApiToken.prefix == m.group(2))
        ).scalar_one_or_none()
        if row is None or not hmac.compare_digest(row.token_sha256, sha256_hex(token)):
            raise AuthenticationError(f"unknown {what}")
        if row.kind != kind or row.revoked_at is not None:
            raise AuthenticationError(f"{what} revoked")
        if row.expires_at is not None and self._now() >= row.expires_at:
            raise AuthenticationError(f"{what} expired")
        u = s.get(User, row.user_id)
        if u is None or not u.active:
            raise AuthenticationError("account inactive")
        return row, u

    def _authenticate(self, token: str, kind: Literal["api", "session"]) -> Actor:
        with self._read() as s:
            return self._actor(self._valid_token(s, token, kind)[1])

    def authenticate_token(self, token: str) -> Actor:
        """The actor an API token belongs to; AuthenticationError if it is not valid."""
        return self._authenticate(token, "api")

    def authenticate_password(self, username: str, password: str) -> Actor:
        """Check a login; the same error whether the user or the password is wrong."""
        with self._read() as s:
            u = s.execute(sa.select(User).where(User.username == username)).scalar_one_or_none()
            stored = u.password_hash if u is not None else None
            ok = _check_password(password, stored or _dummy_hash())
            if u is None or stored is None or not ok or not u.active:
                raise AuthenticationError("wrong username or password")
            return self._actor(u)

    def create_session(self, actor: Actor, *, ttl: timedelta = timedelta(hours=12)) -> IssuedToken:
        """A browser session for an authenticated actor (``jbs_...``, stored hashed)."""
        with self._write() as s:
            u = self._check_actor(s, actor)
            return self._new_token(
                s, actor=actor, user=u, kind="session", name="browser session", ttl=ttl
            )

    def authenticate_session(self, token: str) -> Actor:
        return self._authenticate(token, "session")

    def end_session(self, token: str) -> None:
        """Log out: revoke the session (unknown sessions are ignored)."""
        with self._write() as s:
            # Checked and revoked in one transaction, with one lookup.
            try:
                row, user = self._valid_token(s, token, "session")
            except AuthenticationError:
                return
            row.revoked_at = self._now()
            self._log(s, self._actor(user), "session.end", row)


@cache
def _dummy_hash() -> str:
    # Checked when the user does not exist, so both failures take the same time.
    return _hash_password("not a real password, only for constant timing")
