"""The registry service: every operation takes an explicit actor and checks it.

Permission checks happen here, from the permission table (``data/permissions.json``),
not in the web layer: a case the actor may not see raises :class:`NotFoundError`
(existence is not leaked), an action the actor may not take on a visible case
raises :class:`PermissionDeniedError`, a forbidden lifecycle move raises
:class:`InvalidTransitionError`. Every write appends to the audit chain in the
same transaction. Payloads and transcripts are sealed before they reach the
database and opened only for an entitled caller who asks (and that disclosure
is itself audited).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any, Literal, cast

import sqlalchemy as sa
from pydantic import SecretStr, ValidationError
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from jbgrade._errors import (
    AuthenticationError,
    ConflictError,
    DatabaseError,
    InputError,
    InvalidTransitionError,
    KeyringError,
    NotFoundError,
    PermissionDeniedError,
)
from jbgrade.evidence import Evidence as EvidenceRecord
from jbgrade.policy import ACTIONS, DECISION_KEYS, Profile
from jbgrade.policy import decide as policy_decide
from jbgrade.policy import replay as policy_replay
from jbgrade.registry import _audit
from jbgrade.registry._crypto import Keyring
from jbgrade.registry._db import HEAD_REVISION, current_revision
from jbgrade.registry._models import (
    ApiToken,
    Assessment,
    AuditEntry,
    Case,
    CaseGrant,
    CaseTransition,
    Decision,
    Evidence,
    Organization,
    Reconciliation,
    User,
)
from jbgrade.registry._tables import ROLES, STATES, PermissionTable, lifecycle, permissions
from jbgrade.registry._util import canonical_json, new_id, sha256_hex, utc_now
from jbgrade.registry._views import (
    Actor,
    AssessmentView,
    AuditEntryView,
    CasePage,
    CaseSummary,
    CaseView,
    DecisionView,
    EvidenceView,
    GrantView,
    IssuedToken,
    OrgView,
    ReconciliationView,
    TransitionView,
    UserView,
)
from jbgrade.rubric import SEVERITIES, default_tables, grade

__all__ = ["ORG_KINDS", "SORTS", "Registry"]

ORG_KINDS = ("lab", "government", "research", "platform", "other")
SORTS = ("-updated_at", "updated_at", "-created_at", "created_at", "-score", "score")
_SYSTEM_ROTATE = "system:keys-rotate"
# Built once: constructing aliases costs milliseconds per query.
_REP_ORG = aliased(Organization, name="rep_org")
_OWN_ORG = aliased(Organization, name="own_org")
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
_MAX_TEXT = 100_000
_MAX_SECRET = 5_000_000
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def _hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    dk = hashlib.scrypt(password.encode("utf-8"), salt=salt, dklen=32, **_SCRYPT)
    return (
        "scrypt$16384$8$1$" + base64.b64encode(salt).decode() + "$" + base64.b64encode(dk).decode()
    )


def _check_password(password: str, stored: str) -> bool:
    try:
        algo, n, r, p, salt, dk = stored.split("$")
        want = base64.b64decode(dk)
        got = hashlib.scrypt(
            password.encode("utf-8"),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(want),
        )
    except (ValueError, binascii.Error):
        return False
    return algo == "scrypt" and hmac.compare_digest(got, want)


def _text(value: str, field: str, *, max_len: int = _MAX_TEXT, required: bool = False) -> str:
    if not isinstance(value, str):
        raise InputError("must be text", field=field)
    if required and not value.strip():
        raise InputError("must not be empty", field=field)
    if len(value) > max_len:
        raise InputError(f"longer than {max_len} characters", field=field)
    return value


def _str_list(values: Iterable[str], field: str) -> str:
    if isinstance(values, str):
        raise InputError("must be a list of text, not one text", field=field)
    out = [_text(v, field, max_len=300, required=True).strip() for v in values]
    if len(out) > 200:
        raise InputError("more than 200 entries", field=field)
    return canonical_json(out)


def _aware(dt: datetime | None, field: str) -> datetime | None:
    if dt is None:
        return None
    if dt.tzinfo is None:
        raise InputError("needs a timezone (use UTC)", field=field)
    return dt.astimezone(UTC)


def _encode_cursor(sort: str, value: Any, case_id: str) -> str:
    raw = canonical_json([sort, value, case_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, sort: str) -> tuple[Any, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        s, value, cid = json.loads(raw)
    except (ValueError, TypeError, binascii.Error):
        raise InputError("malformed cursor", field="cursor") from None
    if s != sort or not isinstance(cid, str):
        raise InputError("cursor belongs to another sort order", field="cursor")
    return value, cid


class Registry:
    """The case registry over one database.

    ``Registry(engine, keyring)``; the engine comes from :func:`make_engine` and
    must be migrated (:func:`upgrade`). ``keyring`` may be None for deployments
    that never touch payloads; sealing or opening one then fails clearly.
    ``clock`` returns the current UTC instant (tests pass a fixed one).
    """

    def __init__(
        self,
        engine: Engine,
        keyring: Keyring | None = None,
        *,
        clock: Callable[[], datetime] = utc_now,
        check_schema: bool = True,
    ):
        self.engine = engine
        self._wengine = engine.execution_options(jbgrade_write=True)
        self._keyring = keyring
        self._clock = clock
        self._perms: PermissionTable = permissions()
        self._metrics = tuple(m.key for m in default_tables().metrics)
        if check_schema:
            rev = current_revision(engine)
            if rev != HEAD_REVISION:
                raise DatabaseError(
                    f"database schema is at {rev or 'nothing'}, need {HEAD_REVISION}: "
                    "run `jbgrade db upgrade`"
                )

    def close(self) -> None:
        """Release the engine's connections."""
        self.engine.dispose()

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Registry({self.engine.url.render_as_string(hide_password=True)!r})"

    @property
    def keyring(self) -> Keyring | None:
        return self._keyring

    @property
    def permissions(self) -> PermissionTable:
        return self._perms

    # -- plumbing ------------------------------------------------------------------
    def _now(self) -> datetime:
        return self._clock().astimezone(UTC)

    @contextmanager
    def _read(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as s:
            yield s

    @contextmanager
    def _write(self) -> Iterator[Session]:
        with Session(self._wengine, expire_on_commit=False) as s:
            try:
                with s.begin():
                    yield s
            except IntegrityError as exc:
                # Unique names and races; never echo parameters (they may be sealed data).
                raise ConflictError(
                    f"conflicting change ({type(exc.orig).__name__}): a unique value is "
                    "taken or the object changed concurrently"
                ) from None

    def _log(
        self,
        s: Session,
        actor: Actor | str,
        action: str,
        obj: Any,
        case_id: str | None = None,
    ) -> None:
        if isinstance(actor, Actor):
            aid, aorg = actor.user_id, actor.org_id
        else:
            aid, aorg = actor, None
        _audit.append(
            s,
            at=self._now(),
            actor_id=aid,
            actor_org_id=aorg,
            action=action,
            obj=obj,
            case_id=case_id,
        )

    def _ring(self) -> Keyring:
        if self._keyring is None:
            raise KeyringError("no encryption key configured: set JBGRADE_KEY or JBGRADE_KEY_FILE")
        return self._keyring

    def _seal(self, text: str | None, case_id: str, field: str) -> str | None:
        if text is None:
            return None
        _text(text, field, max_len=_MAX_SECRET)
        return self._ring().seal(text, case_id=case_id, field=field)

    def _open(self, sealed: str | None, case_id: str, field: str) -> SecretStr | None:
        if sealed is None:
            return None
        return SecretStr(self._ring().open(sealed, case_id=case_id, field=field))

    def _check_actor(self, s: Session, actor: Actor) -> User:
        u = s.get(User, actor.user_id)
        if u is None or not u.active or u.org_id != actor.org_id or u.role != actor.role:
            raise AuthenticationError("the caller's account is unknown, inactive or changed")
        return u

    def _require(self, actor: Actor, action: str, relations: Iterable[str] = ("any",)) -> None:
        if not self._perms.allowed(action, actor.role, relations):
            raise PermissionDeniedError(f"role {actor.role} may not {action}")

    def _relations(self, s: Session, actor: Actor, case: Case) -> set[str]:
        rels: set[str] = set()
        if case.reporting_org_id == actor.org_id:
            rels.add("reporting")
        if case.owning_org_id == actor.org_id:
            rels.add("owning")
        g = s.execute(
            sa.select(CaseGrant).where(
                CaseGrant.case_id == case.id,
                CaseGrant.org_id == actor.org_id,
                CaseGrant.revoked_at.is_(None),
            )
        ).scalar_one_or_none()
        if g is not None:
            rels.add("granted")
            if g.payload:
                rels.add("granted_payload")
        return rels or {"other"}

    def _embargoed(self, case: Case) -> bool:
        return case.embargo_until is not None and self._now() < case.embargo_until

    def _case(
        self, s: Session, actor: Actor, case_id: str, action: str, *, lock: bool = False
    ) -> tuple[Case, set[str]]:
        self._check_actor(s, actor)
        stmt = sa.select(Case).where(Case.id == case_id)
        if lock:
            stmt = stmt.with_for_update()
        case = s.execute(stmt).scalar_one_or_none() if isinstance(case_id, str) else None
        if case is None:
            raise NotFoundError(f"case {case_id} not found")
        rels = self._relations(s, actor, case)
        out = self._perms.outcome(action, actor.role, rels, embargoed=self._embargoed(case))
        if out == "not_found":
            raise NotFoundError(f"case {case_id} not found")
        if out == "denied":
            raise PermissionDeniedError(f"role {actor.role} may not {action} on case {case_id}")
        return case, rels

    # -- organisations and users ---------------------------------------------------
    @staticmethod
    def _org_view(o: Organization) -> OrgView:
        return OrgView(id=o.id, name=o.name, kind=o.kind, created_at=o.created_at)

    @staticmethod
    def _user_view(u: User) -> UserView:
        return UserView(
            id=u.id,
            org_id=u.org_id,
            username=u.username,
            display_name=u.display_name,
            role=u.role,  # type: ignore[arg-type]
            active=u.active,
            has_password=u.password_hash is not None,
            created_at=u.created_at,
        )

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
        """Create the first organisation and admin on an empty registry, with an API
        token shown once. Refused once any user exists."""
        with self._write() as s:
            if s.execute(sa.select(User.id).limit(1)).first():
                raise PermissionDeniedError("the registry already has users: bootstrap refused")
            o = self._new_org(s, "system:bootstrap", org_name, org_kind)
            u = self._new_user(
                s,
                actor="system:bootstrap",
                org_id=o.id,
                username=username,
                role="admin",
                display_name=display_name,
                password=password,
            )
            actor = self._actor(u)
            tok = self._new_token(s, actor=actor, user=u, kind="api", name="bootstrap", ttl=None)
        return actor, tok

    def create_org(self, actor: Actor, name: str, *, kind: str = "other") -> OrgView:
        """Create an organisation (admin)."""
        with self._write() as s:
            self._check_actor(s, actor)
            self._require(actor, "org.create")
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
        """Create a user in an organisation (admin)."""
        with self._write() as s:
            self._check_actor(s, actor)
            self._require(actor, "user.create")
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

    def _user_target(self, s: Session, actor: Actor, user_id: str, action: str) -> User:
        self._check_actor(s, actor)
        u = s.get(User, user_id) if isinstance(user_id, str) else None
        rels = {"self"} if user_id == actor.user_id else {"other"}
        if u is None or not self._perms.allowed(action, actor.role, rels):
            if u is not None and self._perms.allowed("user.read", actor.role, rels):
                raise PermissionDeniedError(
                    f"role {actor.role} may not {action} for user {user_id}"
                )
            raise NotFoundError(f"user {user_id} not found")
        return u

    def get_user(self, actor: Actor, user_id: str) -> UserView:
        with self._read() as s:
            return self._user_view(self._user_target(s, actor, user_id, "user.read"))

    def list_users(self, actor: Actor, *, org_id: str | None = None) -> list[UserView]:
        """All users (admin, optionally of one organisation); others see themselves."""
        with self._read() as s:
            self._check_actor(s, actor)
            stmt = sa.select(User).order_by(User.username)
            if not self._perms.allowed("user.read", actor.role, {"other"}):
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
        with self._write() as s:
            self._check_actor(s, actor)
            self._require(actor, "user.create")
            u = s.get(User, user_id)
            if u is None:
                raise NotFoundError(f"user {user_id} not found")
            u.active = bool(active)
            self._log(s, actor, "user.activate" if active else "user.deactivate", u)
            return self._user_view(u)

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
        """Issue an API token (for oneself, or by an admin for anyone)."""
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

    # -- cases ---------------------------------------------------------------------
    def report_case(
        self,
        actor: Actor,
        *,
        title: str,
        summary: str = "",
        owning_org_id: str | None = None,
        affected_models: Sequence[str] = (),
        affected_vendors: Sequence[str] = (),
        affected_deployments: Sequence[str] = (),
        attack_description: str = "",
        payload: str | None = None,
        transcripts: str | None = None,
        embargo_until: datetime | None = None,
    ) -> CaseView:
        """Report a case; the actor's organisation is the reporting one. ``payload`` and
        ``transcripts`` are encrypted before they reach the database."""
        with self._write() as s:
            self._check_actor(s, actor)
            self._require(actor, "case.report")
            owner = owning_org_id or actor.org_id
            if s.get(Organization, owner) is None:
                raise NotFoundError(f"organisation {owner} not found")
            now = self._now()
            cid = new_id("case")
            case = Case(
                id=cid,
                title=_text(title, "title", max_len=300, required=True).strip(),
                summary=_text(summary, "summary"),
                affected_models=_str_list(affected_models, "affected_models"),
                affected_vendors=_str_list(affected_vendors, "affected_vendors"),
                affected_deployments=_str_list(affected_deployments, "affected_deployments"),
                attack_description=_text(attack_description, "attack_description"),
                payload_ct=self._seal(payload, cid, "payload"),
                transcripts_ct=self._seal(transcripts, cid, "transcripts"),
                embargo_until=_aware(embargo_until, "embargo_until"),
                reporting_org_id=actor.org_id,
                owning_org_id=owner,
                reported_by=actor.user_id,
                state=lifecycle().initial,
                created_at=now,
                updated_at=now,
                score=None,
                rank_score=-1.0,
                severity=None,
                domain=None,
            )
            s.add(case)
            self._log(s, actor, "case.report", case, cid)
            return self._case_view(
                s,
                actor,
                case,
                {"reporting"} | ({"owning"} if owner == actor.org_id else set()),
                False,
            )

    def _case_view(
        self, s: Session, actor: Actor, case: Case, rels: set[str], include_payload: bool
    ) -> CaseView:
        embargoed = self._embargoed(case)
        access = self._perms.allowed("case.read_payload", actor.role, rels, embargoed=embargoed)
        orgs = {
            o.id: o.name
            for o in s.execute(
                sa.select(Organization).where(
                    Organization.id.in_({case.reporting_org_id, case.owning_org_id})
                )
            ).scalars()
        }
        grants = [
            self._grant_view(g, name)
            for g, name in s.execute(
                sa.select(CaseGrant, Organization.name)
                .join(Organization, Organization.id == CaseGrant.org_id)
                .where(CaseGrant.case_id == case.id)
                .order_by(CaseGrant.created_at)
            )
        ]
        history = [
            TransitionView(
                id=t.id,
                from_state=t.from_state,
                to_state=t.to_state,
                actor_id=t.actor_id,
                note=t.note,
                created_at=t.created_at,
            )
            for t in s.execute(
                sa.select(CaseTransition)
                .where(CaseTransition.case_id == case.id)
                .order_by(CaseTransition.created_at, CaseTransition.id)
            ).scalars()
        ]
        allowed: list[str] = []
        if self._perms.allowed("case.transition", actor.role, rels, embargoed=embargoed):
            allowed = [
                t for t in lifecycle().targets(case.state) if self._requirements_met(s, case, t)
            ]
        return CaseView(
            id=case.id,
            title=case.title,
            state=case.state,
            score=case.score,
            severity=case.severity,
            domain=case.domain,
            reporting_org_id=case.reporting_org_id,
            reporting_org_name=orgs.get(case.reporting_org_id, ""),
            owning_org_id=case.owning_org_id,
            owning_org_name=orgs.get(case.owning_org_id, ""),
            embargo_until=case.embargo_until,
            created_at=case.created_at,
            updated_at=case.updated_at,
            summary=case.summary,
            affected_models=json.loads(case.affected_models),
            affected_vendors=json.loads(case.affected_vendors),
            affected_deployments=json.loads(case.affected_deployments),
            attack_description=case.attack_description,
            reported_by=case.reported_by,
            embargoed=embargoed,
            has_payload=case.payload_ct is not None,
            has_transcripts=case.transcripts_ct is not None,
            payload_access=access,
            payload=self._open(case.payload_ct, case.id, "payload") if include_payload else None,
            transcripts=self._open(case.transcripts_ct, case.id, "transcripts")
            if include_payload
            else None,
            relations=sorted(rels),
            allowed_transitions=allowed,
            grants=grants,
            history=history,
        )

    def get_case(self, actor: Actor, case_id: str, *, include_payload: bool = False) -> CaseView:
        """A case the actor may see. ``include_payload=True`` decrypts payload and
        transcripts for an entitled actor (PermissionDeniedError otherwise) and
        records the disclosure in the audit log."""
        if not include_payload:
            with self._read() as s:
                case, rels = self._case(s, actor, case_id, "case.read")
                return self._case_view(s, actor, case, rels, False)
        with self._write() as s:
            case, rels = self._case(s, actor, case_id, "case.read_payload")
            view = self._case_view(s, actor, case, rels, True)
            if case.payload_ct is not None or case.transcripts_ct is not None:
                self._log(s, actor, "case.read_payload", case, case.id)
            return view

    def _visibility(self, actor: Actor, now: datetime) -> sa.ColumnElement[bool]:
        """SQL for "the actor may case.read this case", generated from the table."""
        org = actor.org_id
        granted = sa.select(CaseGrant.case_id).where(
            CaseGrant.org_id == org, CaseGrant.revoked_at.is_(None)
        )
        granted_payload = granted.where(CaseGrant.payload.is_(True))
        rel_sql: dict[str, sa.ColumnElement[bool]] = {
            "reporting": Case.reporting_org_id == org,
            "owning": Case.owning_org_id == org,
            "granted": Case.id.in_(granted),
            "granted_payload": Case.id.in_(granted_payload),
        }
        rules = [r for r in self._perms.rules["case.read"] if actor.role in r.roles]
        free = set().union(*(r.relations for r in rules if not r.unless_embargoed))
        conds: list[sa.ColumnElement[bool]] = []
        for r in rules:
            parts: list[sa.ColumnElement[bool]] = []
            for rel in sorted(r.relations):
                if rel in rel_sql:
                    parts.append(rel_sql[rel])
                elif rel == "other":
                    # "other" = none of the named relations; when those are all visible
                    # anyway, the negation adds nothing but cost.
                    if {"reporting", "owning", "granted"} <= free:
                        parts.append(sa.true())
                    else:
                        parts.append(
                            sa.and_(
                                Case.reporting_org_id != org,
                                Case.owning_org_id != org,
                                Case.id.not_in(granted),
                            )
                        )
            if not parts:
                continue
            c = sa.or_(*parts)
            if r.unless_embargoed:
                c = sa.and_(c, sa.or_(Case.embargo_until.is_(None), Case.embargo_until <= now))
            conds.append(c)
        return sa.or_(*conds) if conds else sa.false()

    def list_cases(
        self,
        actor: Actor,
        *,
        state: str | Sequence[str] | None = None,
        severity: str | Sequence[str] | None = None,
        organization: str | None = None,
        domain: str | Sequence[str] | None = None,
        text: str | None = None,
        sort: str = "-updated_at",
        limit: int = 50,
        cursor: str | None = None,
        with_total: bool = False,
        count_limit: int = 10_000,
    ) -> CasePage:
        """Cases the actor may see, filtered, sorted, one keyset page at a time.

        Filters: ``state``, ``severity`` (labels), ``domain`` (HD letters) take one
        value or several; ``organization`` matches the reporting or owning org;
        ``text`` is a case-insensitive substring of title or summary. ``sort`` is one
        of ``SORTS``; ``cursor`` is the previous page's ``next_cursor``.
        ``with_total`` counts the matches up to ``count_limit`` (``total_capped``
        says the real number is larger).
        """
        if sort not in SORTS:
            raise InputError(f"unknown sort {sort!r} (known: {', '.join(SORTS)})", field="sort")
        if not isinstance(limit, int) or not 1 <= limit <= 500:
            raise InputError("limit must be 1 to 500", field="limit")

        def many(v: str | Sequence[str] | None, field: str, allowed: Sequence[str]) -> list[str]:
            vals = [v] if isinstance(v, str) else list(v or ())
            bad = [x for x in vals if x not in allowed]
            if bad:
                raise InputError(
                    f"unknown value {bad[0]!r} (known: {', '.join(allowed)})", field=field
                )
            return vals

        states = many(state, "state", STATES)
        sevs = many(severity, "severity", SEVERITIES)
        doms = many(domain, "domain", ("G", "S", "W", "C", "X"))
        now = self._now()
        rep, own = _REP_ORG, _OWN_ORG
        where: list[sa.ColumnElement[bool]] = [self._visibility(actor, now)]
        if states:
            where.append(Case.state.in_(states))
        if sevs:
            where.append(Case.severity.in_(sevs))
        if doms:
            where.append(Case.domain.in_(doms))
        org_where: list[sa.ColumnElement[bool]] = []
        if organization:
            org_where.append(
                sa.or_(Case.reporting_org_id == organization, Case.owning_org_id == organization)
            )
        if text:
            t = _text(text, "text", max_len=200)
            pat = "%" + t.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            where.append(
                sa.or_(Case.title.ilike(pat, escape="\\"), Case.summary.ilike(pat, escape="\\"))
            )
        key_col: Any = {
            "updated_at": Case.updated_at,
            "created_at": Case.created_at,
            "score": Case.rank_score,
        }[sort.lstrip("-")]
        desc = sort.startswith("-")
        page_where = list(where)
        if cursor:
            value, cid = _decode_cursor(cursor, sort)
            if sort.lstrip("-") in ("updated_at", "created_at"):
                try:
                    value = datetime.fromisoformat(value)
                except (TypeError, ValueError):
                    raise InputError("malformed cursor", field="cursor") from None
            elif not isinstance(value, int | float):
                raise InputError("malformed cursor", field="cursor")
            pair = sa.tuple_(key_col, Case.id)
            bound = sa.tuple_(sa.literal(value, key_col.type), sa.literal(cid))
            page_where.append(pair < bound if desc else pair > bound)
        order = (key_col.desc(), Case.id.desc()) if desc else (key_col.asc(), Case.id.asc())
        cols = (
            Case.id,
            Case.title,
            Case.state,
            Case.score,
            Case.severity,
            Case.domain,
            Case.reporting_org_id,
            rep.name.label("reporting_org_name"),
            Case.owning_org_id,
            own.name.label("owning_org_name"),
            Case.embargo_until,
            Case.created_at,
            Case.updated_at,
            key_col.label("sort_key"),
        )

        def page(*extra: sa.ColumnElement[bool]) -> sa.Select[Any]:
            return (
                sa.select(*cols)
                .join(rep, rep.id == Case.reporting_org_id)
                .join(own, own.id == Case.owning_org_id)
                .where(*page_where, *extra)
                .order_by(*order)
                .limit(limit + 1)
            )

        if organization and sort.lstrip("-") == "updated_at":
            # "reporting OR owning" defeats the (org, updated_at, id) indexes (without
            # statistics SQLite even sorts every match): read each side in index order,
            # stop at a page, merge.
            a = page(Case.reporting_org_id == organization).subquery()
            b = page(
                Case.owning_org_id == organization, Case.reporting_org_id != organization
            ).subquery()
            u = sa.union_all(sa.select(a), sa.select(b)).subquery()
            uk, uid = u.c.sort_key, u.c.id
            stmt = (
                sa.select(u)
                .order_by(*((uk.desc(), uid.desc()) if desc else (uk.asc(), uid.asc())))
                .limit(limit + 1)
            )
        else:
            stmt = page(*org_where)
        with self._read() as s:
            self._check_actor(s, actor)
            rows = s.execute(stmt).all()
            total, capped = None, False
            if with_total:
                # Counting every visible match costs a scan; a list needs "10,000+" at most.
                sub = sa.select(Case.id).where(*where, *org_where).limit(count_limit + 1).subquery()
                n = s.execute(sa.select(sa.func.count()).select_from(sub)).scalar_one()
                total, capped = min(n, count_limit), n > count_limit
        items = [
            CaseSummary(
                id=r[0],
                title=r[1],
                state=r[2],
                score=r[3],
                severity=r[4],
                domain=r[5],
                reporting_org_id=r[6],
                reporting_org_name=r[7],
                owning_org_id=r[8],
                owning_org_name=r[9],
                embargo_until=r[10],
                created_at=r[11],
                updated_at=r[12],
            )
            for r in rows[:limit]
        ]
        nxt = None
        if len(rows) > limit:
            last = rows[limit - 1]
            kv = last[13]
            nxt = _encode_cursor(sort, kv.isoformat() if isinstance(kv, datetime) else kv, last[0])
        return CasePage(items=items, next_cursor=nxt, total=total, total_capped=capped)

    def _requirements_met(self, s: Session, case: Case, target: str) -> bool:
        t = lifecycle().find(case.state, target)
        if t is None:
            return False
        return not self._unmet(s, case, t.requires)

    def _unmet(self, s: Session, case: Case, requires: Iterable[str]) -> list[str]:
        out = []
        for req in requires:
            if req == "assessment":
                q = sa.select(Assessment.id).where(Assessment.case_id == case.id)
            elif req == "decision":
                q = sa.select(Decision.id).where(Decision.case_id == case.id)
            else:  # a table entry the code does not know: refuse rather than ignore
                out.append(req)
                continue
            if s.execute(q.limit(1)).first() is None:
                out.append(req)
        return out

    def transition(self, actor: Actor, case_id: str, to_state: str, *, note: str = "") -> CaseView:
        """Move a case along the lifecycle table (``data/lifecycle.json``)."""
        with self._write() as s:
            case, rels = self._case(s, actor, case_id, "case.transition", lock=True)
            if to_state not in STATES:
                raise InputError(
                    f"unknown state {to_state!r} (known: {', '.join(STATES)})", field="to_state"
                )
            t = lifecycle().find(case.state, to_state)
            if t is None:
                allowed = ", ".join(lifecycle().targets(case.state)) or "none"
                raise InvalidTransitionError(
                    f"case {case_id} cannot go from {case.state} to {to_state} "
                    f"(allowed from {case.state}: {allowed})"
                )
            unmet = self._unmet(s, case, t.requires)
            if unmet:
                raise InvalidTransitionError(
                    f"case {case_id} cannot go from {case.state} to {to_state}: "
                    f"needs {' and '.join('a ' + u for u in unmet)} first"
                )
            now = self._now()
            move = CaseTransition(
                id=new_id("trn"),
                case_id=case.id,
                from_state=case.state,
                to_state=to_state,
                actor_id=actor.user_id,
                note=_text(note, "note", max_len=10_000),
                created_at=now,
            )
            case.state = to_state
            case.updated_at = now
            s.add(move)
            self._log(s, actor, "case.transition", move, case.id)
            self._log(s, actor, "case.transition", case, case.id)
            return self._case_view(s, actor, case, rels, False)

    def grant_access(
        self, actor: Actor, case_id: str, org_id: str, *, payload: bool = False
    ) -> GrantView:
        """Give another organisation (e.g. a regulator) access to a case."""
        with self._write() as s:
            case, _ = self._case(s, actor, case_id, "case.grant", lock=True)
            org = s.get(Organization, org_id)
            if org is None:
                raise NotFoundError(f"organisation {org_id} not found")
            if org_id in (case.reporting_org_id, case.owning_org_id):
                raise InputError(
                    "the reporting and owning organisations have access already", field="org_id"
                )
            g = s.execute(
                sa.select(CaseGrant).where(CaseGrant.case_id == case.id, CaseGrant.org_id == org_id)
            ).scalar_one_or_none()
            now = self._now()
            if g is None:
                g = CaseGrant(
                    id=new_id("grt"),
                    case_id=case.id,
                    org_id=org_id,
                    payload=bool(payload),
                    granted_by=actor.user_id,
                    created_at=now,
                    revoked_at=None,
                )
                s.add(g)
            else:
                g.payload = bool(payload)
                g.granted_by = actor.user_id
                g.revoked_at = None
            case.updated_at = now
            self._log(s, actor, "case.grant", g, case.id)
            return self._grant_view(g, org.name)

    @staticmethod
    def _grant_view(g: CaseGrant, org_name: str) -> GrantView:
        return GrantView(
            id=g.id,
            case_id=g.case_id,
            org_id=g.org_id,
            org_name=org_name,
            payload=g.payload,
            granted_by=g.granted_by,
            created_at=g.created_at,
            revoked_at=g.revoked_at,
        )

    def revoke_access(self, actor: Actor, case_id: str, org_id: str) -> None:
        with self._write() as s:
            case, _ = self._case(s, actor, case_id, "case.grant", lock=True)
            g = s.execute(
                sa.select(CaseGrant).where(
                    CaseGrant.case_id == case.id,
                    CaseGrant.org_id == org_id,
                    CaseGrant.revoked_at.is_(None),
                )
            ).scalar_one_or_none()
            if g is None:
                raise NotFoundError(f"no active grant of case {case_id} to {org_id}")
            g.revoked_at = self._now()
            case.updated_at = g.revoked_at
            self._log(s, actor, "case.revoke_grant", g, case.id)

    # -- assessments -------------------------------------------------------------------
    def _refresh_case_grade(self, s: Session, case: Case) -> None:
        """Recompute the case's listing columns from the current assessments: the
        highest score wins (precaution when parties disagree)."""
        latest = (
            sa.select(Assessment.org_id, sa.func.max(Assessment.version).label("v"))
            .where(Assessment.case_id == case.id)
            .group_by(Assessment.org_id)
            .subquery()
        )
        best = s.execute(
            sa.select(Assessment.score, Assessment.severity, Assessment.domain)
            .join(
                latest,
                sa.and_(latest.c.org_id == Assessment.org_id, latest.c.v == Assessment.version),
            )
            .where(Assessment.case_id == case.id)
            .order_by(Assessment.score.desc(), Assessment.created_at.desc())
            .limit(1)
        ).first()
        if best is None:
            case.score, case.severity, case.domain, case.rank_score = None, None, None, -1.0
        else:
            case.score, case.severity, case.domain = best[0], best[1], best[2]
            case.rank_score = best[0]

    def add_assessment(
        self,
        actor: Actor,
        case_id: str,
        vector: str,
        *,
        rationales: Mapping[str, str] | None = None,
        evidence_refs: Sequence[str] = (),
        note: str = "",
    ) -> AssessmentView:
        """Grade a case for the actor's organisation. Assessments are immutable: a
        second call by the same organisation adds version n+1 that supersedes n."""
        with self._write() as s:
            case, _ = self._case(s, actor, case_id, "assessment.add", lock=True)
            if case.state == "closed":
                raise InvalidTransitionError(f"case {case_id} is closed: reopen it to assess")
            g = grade(vector)
            rat: dict[str, str] = {}
            for k, v in dict(rationales or {}).items():
                if k not in self._metrics:
                    raise InputError(
                        f"unknown metric (known: {', '.join(self._metrics)})",
                        field=f"rationales.{k}",
                    )
                rat[k] = _text(v, f"rationales.{k}", max_len=20_000)
            refs = list(evidence_refs)
            for ref in refs:
                _text(ref, "evidence_refs", max_len=500, required=True)
                if (
                    ref.startswith("evd_")
                    and s.execute(
                        sa.select(Evidence.id).where(
                            Evidence.id == ref, Evidence.case_id == case.id
                        )
                    ).first()
                    is None
                ):
                    raise InputError(f"no evidence {ref} on this case", field="evidence_refs")
            prev = s.execute(
                sa.select(Assessment)
                .where(Assessment.case_id == case.id, Assessment.org_id == actor.org_id)
                .order_by(Assessment.version.desc())
                .limit(1)
            ).scalar_one_or_none()
            now = self._now()
            a = Assessment(
                id=new_id("asm"),
                case_id=case.id,
                org_id=actor.org_id,
                assessor_id=actor.user_id,
                version=(prev.version + 1) if prev else 1,
                supersedes_id=prev.id if prev else None,
                vector=g.vector,
                score=g.score,
                severity=g.severity,
                provisional=g.provisional,
                systemic=g.systemic,
                domain=g.letters["HD"],
                rationales=canonical_json(rat),
                evidence_refs=canonical_json(refs),
                note=_text(note, "note", max_len=20_000),
                created_at=now,
            )
            s.add(a)
            s.flush()
            self._refresh_case_grade(s, case)
            case.updated_at = now
            self._log(s, actor, "assessment.add", a, case.id)
            return self._assessment_views(s, case.id, history=True, only=a.id)[0]

    def _assessment_views(
        self, s: Session, case_id: str, *, history: bool, only: str | None = None
    ) -> list[AssessmentView]:
        latest = dict(
            s.execute(
                sa.select(Assessment.org_id, sa.func.max(Assessment.version))
                .where(Assessment.case_id == case_id)
                .group_by(Assessment.org_id)
            ).all()
        )
        stmt = (
            sa.select(Assessment, Organization.name, User.display_name)
            .join(Organization, Organization.id == Assessment.org_id)
            .join(User, User.id == Assessment.assessor_id)
            .where(Assessment.case_id == case_id)
            .order_by(Assessment.created_at, Assessment.id)
        )
        if only is not None:
            stmt = stmt.where(Assessment.id == only)
        out = []
        for a, org_name, user_name in s.execute(stmt):
            current = latest.get(a.org_id) == a.version
            if not history and not current:
                continue
            out.append(
                AssessmentView(
                    id=a.id,
                    case_id=a.case_id,
                    org_id=a.org_id,
                    org_name=org_name,
                    assessor_id=a.assessor_id,
                    assessor_name=user_name,
                    version=a.version,
                    supersedes_id=a.supersedes_id,
                    current=current,
                    vector=a.vector,
                    score=a.score,
                    severity=a.severity,
                    provisional=a.provisional,
                    systemic=a.systemic,
                    domain=a.domain,
                    rationales=json.loads(a.rationales),
                    evidence_refs=json.loads(a.evidence_refs),
                    note=a.note,
                    created_at=a.created_at,
                )
            )
        return out

    def list_assessments(
        self, actor: Actor, case_id: str, *, history: bool = False
    ) -> list[AssessmentView]:
        """Each party's current assessment (``history=True``: every version), oldest first."""
        with self._read() as s:
            self._case(s, actor, case_id, "case.read")
            return self._assessment_views(s, case_id, history=history)

    # -- evidence ----------------------------------------------------------------------
    @staticmethod
    def _validate_evidence(evidence: Mapping[str, Any] | EvidenceRecord) -> tuple[str, str]:
        """Validate against ``jbgrade.evidence.Evidence``; return canonical JSON and version."""
        if isinstance(evidence, EvidenceRecord):
            rec = evidence
        else:
            if not isinstance(evidence, Mapping):
                raise InputError("evidence must be a JSON object", field="evidence")
            fv = evidence.get("format_version")
            if fv != 1:
                raise InputError(
                    f"unsupported evidence format_version {fv!r} (supported: 1)",
                    field="evidence.format_version",
                )
            try:
                rec = EvidenceRecord.model_validate(dict(evidence))
            except ValidationError as exc:
                err = exc.errors()[0]
                loc = ".".join(str(x) for x in err["loc"])
                raise InputError(
                    err["msg"], field=f"evidence.{loc}" if loc else "evidence"
                ) from None
        body = canonical_json(rec.model_dump(mode="json"))
        if len(body) > _MAX_SECRET:
            raise InputError(f"evidence larger than {_MAX_SECRET} bytes", field="evidence")
        return body, str(rec.format_version)

    def attach_evidence(
        self,
        actor: Actor,
        case_id: str,
        evidence: Mapping[str, Any] | EvidenceRecord,
        *,
        label: str = "",
        transcripts: str | None = None,
    ) -> EvidenceView:
        """Attach campaign evidence (a ``jbgrade.evidence.Evidence`` or its JSON,
        validated) and, optionally, transcripts (encrypted)."""
        with self._write() as s:
            case, _ = self._case(s, actor, case_id, "evidence.attach", lock=True)
            body, fv = self._validate_evidence(evidence)
            eid = new_id("evd")
            ev = Evidence(
                id=eid,
                case_id=case.id,
                org_id=actor.org_id,
                attached_by=actor.user_id,
                label=_text(label, "label", max_len=200),
                format_version=fv,
                body=body,
                body_sha256=sha256_hex(body),
                transcripts_ct=self._seal(transcripts, case.id, f"evidence:{eid}:transcripts"),
                created_at=self._now(),
            )
            s.add(ev)
            case.updated_at = ev.created_at
            self._log(s, actor, "evidence.attach", ev, case.id)
            return self._evidence_view(ev, None)

    @staticmethod
    def _evidence_view(ev: Evidence, transcripts: SecretStr | None) -> EvidenceView:
        return EvidenceView(
            id=ev.id,
            case_id=ev.case_id,
            org_id=ev.org_id,
            attached_by=ev.attached_by,
            label=ev.label,
            evidence_format_version=ev.format_version,
            body=json.loads(ev.body),
            body_sha256=ev.body_sha256,
            has_transcripts=ev.transcripts_ct is not None,
            transcripts=transcripts,
            created_at=ev.created_at,
        )

    def list_evidence(
        self, actor: Actor, case_id: str, *, include_transcripts: bool = False
    ) -> list[EvidenceView]:
        """Evidence on a case; transcripts only on request for entitled callers (audited)."""
        action = "case.read_payload" if include_transcripts else "case.read"
        with self._write() if include_transcripts else self._read() as s:
            case, _ = self._case(s, actor, case_id, action)
            rows = (
                s.execute(
                    sa.select(Evidence)
                    .where(Evidence.case_id == case_id)
                    .order_by(Evidence.created_at, Evidence.id)
                )
                .scalars()
                .all()
            )
            out = []
            for ev in rows:
                tr = None
                if include_transcripts:
                    tr = self._open(ev.transcripts_ct, case.id, f"evidence:{ev.id}:transcripts")
                out.append(self._evidence_view(ev, tr))
            if include_transcripts and any(ev.transcripts_ct for ev in rows):
                self._log(s, actor, "evidence.read_transcripts", case, case.id)
            return out

    # -- decisions ---------------------------------------------------------------------
    @staticmethod
    def _validate_decision(d: Mapping[str, Any]) -> tuple[dict[str, Any], date | None]:
        if not isinstance(d, Mapping):
            raise InputError("a decision must be a JSON object", field="decision")
        missing = [k for k in DECISION_KEYS if k not in d]
        if missing:
            raise InputError(f"missing key(s) {', '.join(missing)}", field="decision")
        if d["action"] not in ACTIONS:
            raise InputError(
                f"unknown action {d['action']!r} (known: {', '.join(ACTIONS)})",
                field="decision.action",
            )
        for k in ("profile", "profile_version"):
            if not isinstance(d[k], str) or not d[k] or len(d[k]) > 100:
                raise InputError("must be non-empty text", field=f"decision.{k}")
        if not isinstance(d["bundle_sha256"], str) or not re.fullmatch(
            r"[0-9a-f]{64}", d["bundle_sha256"]
        ):
            raise InputError("must be 64 lowercase hex digits", field="decision.bundle_sha256")
        if not isinstance(d["provisional"], bool):
            raise InputError("must be true or false", field="decision.provisional")
        if not isinstance(d["obligations"], list):
            raise InputError("must be a list", field="decision.obligations")
        dues: list[date] = []
        for i, ob in enumerate(d["obligations"]):
            if not isinstance(ob, Mapping) or not {"party", "what", "due"} <= set(ob):
                raise InputError("needs party, what and due", field=f"decision.obligations[{i}]")
            if ob["due"] is not None:
                try:
                    dues.append(date.fromisoformat(ob["due"]))
                except (TypeError, ValueError):
                    raise InputError(
                        "due must be an ISO date", field=f"decision.obligations[{i}].due"
                    ) from None
        try:
            body = json.loads(canonical_json(dict(d)))
        except (TypeError, ValueError):
            raise InputError("the decision is not plain JSON", field="decision") from None
        return body, min(dues) if dues else None

    def record_decision(
        self,
        actor: Actor,
        case_id: str,
        decision: Mapping[str, Any],
        *,
        assessment_id: str | None = None,
    ) -> DecisionView:
        """Record a policy decision (the ``jbgrade decide --json`` object: action,
        obligations, fired_rules, near_misses, provisional, profile, profile_version,
        bundle_sha256) for a case, optionally naming the assessment it rests on."""
        body, next_due = self._validate_decision(decision)
        with self._write() as s:
            case, _ = self._case(s, actor, case_id, "decision.record", lock=True)
            if case.state == "closed":
                raise InvalidTransitionError(f"case {case_id} is closed: reopen it to decide")
            if (
                assessment_id is not None
                and s.execute(
                    sa.select(Assessment.id).where(
                        Assessment.id == assessment_id, Assessment.case_id == case.id
                    )
                ).first()
                is None
            ):
                raise InputError(
                    f"no assessment {assessment_id} on this case", field="assessment_id"
                )
            d = Decision(
                id=new_id("dec"),
                case_id=case.id,
                assessment_id=assessment_id,
                org_id=actor.org_id,
                decided_by=actor.user_id,
                profile_id=body["profile"],
                profile_version=body["profile_version"],
                bundle_sha256=body["bundle_sha256"],
                action=body["action"],
                provisional=body["provisional"],
                result=canonical_json(body),
                next_due=next_due,
                created_at=self._now(),
            )
            s.add(d)
            case.updated_at = d.created_at
            self._log(s, actor, "decision.record", d, case.id)
            return self._decision_views(s, case.id, only=d.id)[0]

    def decide(
        self,
        actor: Actor,
        case_id: str,
        profile: str | Profile,
        *,
        assessment_id: str | None = None,
        vector: str | None = None,
        context: Mapping[str, Any] | None = None,
        aware_on: date | str | None = None,
    ) -> DecisionView:
        """Run the policy engine (:func:`jbgrade.decide`) on a grade of the case and
        record the decision. The API and the web UI record decisions through here.

        The grade: ``assessment_id`` (any version), else ``vector`` (a grade not
        recorded as an assessment), else the highest-scoring current assessment
        (precaution when the parties disagree). Default awareness date: the day the
        case was reported (UTC), the earliest day anyone with access to the registry
        knew of it, so deadlines never run late for want of a date. The stored result
        holds the vector, context and dates, so :meth:`replay_decision` can recompute it.
        """
        with self._read() as s:
            case, _ = self._case(s, actor, case_id, "decision.record")
            chosen: str | None = None
            if assessment_id is not None:
                row = s.execute(
                    sa.select(Assessment.id, Assessment.vector).where(
                        Assessment.case_id == case.id, Assessment.id == assessment_id
                    )
                ).first()
                if row is None:
                    raise InputError(
                        f"no assessment {assessment_id} on this case", field="assessment_id"
                    )
                chosen, vec = row
            elif vector is not None:
                vec = vector
            else:
                # Current: each organisation's latest version (as _assessment_views marks it).
                latest = (
                    sa.select(Assessment.org_id, sa.func.max(Assessment.version).label("v"))
                    .where(Assessment.case_id == case.id)
                    .group_by(Assessment.org_id)
                    .subquery()
                )
                row = s.execute(
                    sa.select(Assessment.id, Assessment.vector)
                    .join(
                        latest,
                        (latest.c.org_id == Assessment.org_id) & (latest.c.v == Assessment.version),
                    )
                    .where(Assessment.case_id == case.id)
                    .order_by(Assessment.score.desc(), Assessment.created_at.desc())
                    .limit(1)
                ).first()
                if row is None:
                    raise InputError(
                        f"case {case_id} has no assessment to decide on: add one, or give a vector",
                        field="vector",
                    )
                chosen, vec = row
            aware = aware_on if aware_on is not None else case.created_at.date()
        d = policy_decide(vec, context, profile, aware_on=aware)
        full = d.model_dump(mode="json")
        # The published keys exactly as the engine renders them, plus what replay needs.
        rec = {
            **d.to_dict(),
            **{k: full[k] for k in ("vector", "aware_on", "context")},
            # Replay needs what was given: the effective context includes assumptions.
            "context_given": dict(context) if context is not None else None,
        }
        return self.record_decision(actor, case_id, rec, assessment_id=chosen)

    def replay_decision(
        self, actor: Actor, decision_id: str, *, case_id: str | None = None
    ) -> DecisionView:
        """Recompute a recorded decision with the policy engine and check it is the
        same (:func:`jbgrade.policy.replay`); PolicyError when it is not. With
        ``case_id``, a decision of another case is not found."""
        with self._read() as s:
            row = s.get(Decision, decision_id) if isinstance(decision_id, str) else None
            if row is None or (case_id is not None and row.case_id != case_id):
                raise NotFoundError(f"decision {decision_id} not found")
            self._case(s, actor, row.case_id, "case.read")
            view = self._decision_views(s, row.case_id, only=row.id)[0]
        rec = view.result
        if "vector" not in rec:
            raise InputError(
                "this decision was recorded from outside without its vector: cannot replay",
                field="decision_id",
            )
        policy_replay(
            {k: rec[k] for k in DECISION_KEYS},
            rec["vector"],
            rec.get("context_given"),
            rec["profile"],
            aware_on=rec.get("aware_on"),
        )
        return view

    def _decision_views(
        self, s: Session, case_id: str, only: str | None = None
    ) -> list[DecisionView]:
        rows = (
            s.execute(
                sa.select(Decision)
                .where(Decision.case_id == case_id)
                .order_by(Decision.created_at, Decision.id)
            )
            .scalars()
            .all()
        )
        latest: dict[str, str] = {}
        for d in rows:
            latest[d.profile_id] = d.id
        return [
            DecisionView(
                id=d.id,
                case_id=d.case_id,
                assessment_id=d.assessment_id,
                org_id=d.org_id,
                decided_by=d.decided_by,
                profile_id=d.profile_id,
                profile_version=d.profile_version,
                bundle_sha256=d.bundle_sha256,
                action=d.action,
                provisional=d.provisional,
                next_due=d.next_due,
                result=json.loads(d.result),
                current=latest[d.profile_id] == d.id,
                created_at=d.created_at,
            )
            for d in rows
            if only is None or d.id == only
        ]

    def list_decisions(self, actor: Actor, case_id: str) -> list[DecisionView]:
        """Every decision recorded on the case, oldest first (``current`` marks the
        latest per profile)."""
        with self._read() as s:
            self._case(s, actor, case_id, "case.read")
            return self._decision_views(s, case_id)

    # -- reconciliations -------------------------------------------------------------
    @staticmethod
    def _validate_reconciliation(rec: Mapping[str, Any], case_id: str) -> dict[str, Any]:
        # The full model lives in jbgrade.assess (a layer above): callers with it
        # validate there first (jbgrade.assess.store_reconciliation); here we check
        # what the registry relies on, so a stored record is always readable.
        if not isinstance(rec, Mapping):
            raise InputError("a reconciliation must be a JSON object", field="reconciliation")
        if rec.get("kind") != "jbgrade-reconciliation" or rec.get("format_version") != 1:
            raise InputError(
                "not a jbgrade reconciliation record (kind jbgrade-reconciliation, format 1)",
                field="reconciliation.kind",
            )
        if rec.get("case_id") != case_id:
            raise InputError(
                f"the record is about case {rec.get('case_id')!r}, not {case_id}",
                field="reconciliation.case_id",
            )
        if rec.get("status") not in ("open", "settled"):
            raise InputError("must be open or settled", field="reconciliation.status")
        sha = rec.get("inputs_sha256")
        if not isinstance(sha, str) or not re.fullmatch(r"[0-9a-f]{64}", sha):
            raise InputError(
                "must be 64 lowercase hex digits", field="reconciliation.inputs_sha256"
            )
        for k in ("parties", "differences", "unchanged", "summary", "settle_action"):
            if not isinstance(rec.get(k), list):
                raise InputError("must be a list", field=f"reconciliation.{k}")
        if len(rec["parties"]) != 2:
            raise InputError("needs exactly two parties", field="reconciliation.parties")
        try:
            return cast("dict[str, Any]", json.loads(canonical_json(dict(rec))))
        except (TypeError, ValueError):
            raise InputError(
                "the reconciliation is not plain JSON", field="reconciliation"
            ) from None

    def add_reconciliation(
        self, actor: Actor, case_id: str, record: Mapping[str, Any]
    ) -> ReconciliationView:
        """Store a reconciliation record (``jbgrade dispute --json``) on the case.

        Immutable: storing again adds a record. The record must be about this case.
        """
        body = self._validate_reconciliation(record, case_id)
        with self._write() as s:
            case, _ = self._case(s, actor, case_id, "reconciliation.add", lock=True)
            r = Reconciliation(
                id=new_id("rcn"),
                case_id=case.id,
                org_id=actor.org_id,
                stored_by=actor.user_id,
                status=body["status"],
                inputs_sha256=body["inputs_sha256"],
                body=canonical_json(body),
                created_at=self._now(),
            )
            s.add(r)
            case.updated_at = r.created_at
            self._log(s, actor, "reconciliation.add", r, case.id)
            s.flush()
            return self._reconciliation_views(s, case.id, only=r.id)[0]

    def _reconciliation_views(
        self, s: Session, case_id: str, only: str | None = None
    ) -> list[ReconciliationView]:
        stmt = (
            sa.select(Reconciliation, User.username, Organization.name)
            .join(User, User.id == Reconciliation.stored_by)
            .join(Organization, Organization.id == Reconciliation.org_id)
            .where(Reconciliation.case_id == case_id)
            .order_by(Reconciliation.created_at, Reconciliation.id)
        )
        if only is not None:
            stmt = stmt.where(Reconciliation.id == only)
        return [
            ReconciliationView(
                id=r.id,
                case_id=r.case_id,
                org_id=r.org_id,
                stored_by=r.stored_by,
                stored_by_name=uname,
                org_name=oname,
                status=r.status,  # type: ignore[arg-type]
                inputs_sha256=r.inputs_sha256,
                record=json.loads(r.body),
                created_at=r.created_at,
            )
            for r, uname, oname in s.execute(stmt).all()
        ]

    def list_reconciliations(self, actor: Actor, case_id: str) -> list[ReconciliationView]:
        """The reconciliation records stored on the case, oldest first."""
        with self._read() as s:
            self._case(s, actor, case_id, "reconciliation.read")
            return self._reconciliation_views(s, case_id)

    # -- audit -------------------------------------------------------------------------
    def audit_trail(self, actor: Actor, case_id: str) -> list[AuditEntryView]:
        """The audit entries of one case, in chain order."""
        with self._read() as s:
            self._case(s, actor, case_id, "case.read")
            rows = s.execute(
                sa.select(AuditEntry).where(AuditEntry.case_id == case_id).order_by(AuditEntry.seq)
            ).scalars()
            return [AuditEntryView.model_validate(e, from_attributes=True) for e in rows]

    def verify_audit(
        self, actor: Actor | None = None, *, anchor: tuple[int, str] | None = None
    ) -> _audit.AuditReport:
        """Verify the whole chain and its binding to the data. ``actor=None`` is the
        operator (CLI); otherwise the actor needs ``audit.verify``."""
        with self._read() as s:
            if actor is not None:
                self._check_actor(s, actor)
                self._require(actor, "audit.verify")
            return _audit.verify_chain(s, anchor=anchor)

    # -- keys --------------------------------------------------------------------------
    def key_usage(self) -> dict[str, int]:
        """Key id -> number of ciphertexts sealed under it."""
        out: dict[str, int] = {}
        with self._read() as s:
            for col in (Case.payload_ct, Case.transcripts_ct, Evidence.transcripts_ct):
                for (ct,) in s.execute(sa.select(col).where(col.is_not(None))):
                    kid = Keyring.key_id_of(ct or "")
                    out[kid] = out.get(kid, 0) + 1
        return out

    def rotate_keys(self, new_keyring: Keyring, *, batch: int = 200) -> int:
        """Re-encrypt every ciphertext not under ``new_keyring.active``; return how many.

        ``new_keyring`` must hold every key in use (old ones decrypt). Each changed
        row is audited (``keys.rotate``) in batches, so an interrupted rotation can
        simply be run again. Afterwards the registry uses ``new_keyring``.
        """
        active = new_keyring.active
        done = 0
        specs: tuple[tuple[type[Case] | type[Evidence], tuple[str, ...]], ...] = (
            (Case, ("payload", "transcripts")),
            (Evidence, ("transcripts",)),
        )
        for model, fields in specs:
            while True:
                with self._write() as s:
                    conds = []
                    for f in fields:
                        col = getattr(model, f + "_ct")
                        conds.append(sa.and_(col.is_not(None), ~col.startswith(f"jbg1.{active}.")))
                    stmt = sa.select(model).where(sa.or_(*conds)).limit(batch).with_for_update()
                    rows = cast("Sequence[Case | Evidence]", s.execute(stmt).scalars().all())
                    if not rows:
                        break
                    for row in rows:
                        cid = row.case_id if isinstance(row, Evidence) else row.id
                        for f in fields:
                            ct = getattr(row, f + "_ct")
                            if ct is None or Keyring.key_id_of(ct) == active:
                                continue
                            where = f if isinstance(row, Case) else f"evidence:{row.id}:{f}"
                            pt = new_keyring.open(ct, case_id=cid, field=where)
                            setattr(row, f + "_ct", new_keyring.seal(pt, case_id=cid, field=where))
                            done += 1
                        self._log(s, _SYSTEM_ROTATE, "keys.rotate", row, cid)
        self._keyring = new_keyring
        return done


@cache
def _dummy_hash() -> str:
    # Checked when the user does not exist, so both failures take the same time.
    return _hash_password("not a real password, only for constant timing")
