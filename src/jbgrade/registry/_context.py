"""The shared context every registry aggregate works in: one engine, one keyring,
one clock, read/write sessions, the audit hook, actor and permission checks."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Self

import sqlalchemy as sa
from pydantic import SecretStr
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from jbgrade._errors import (
    AuthenticationError,
    ConflictError,
    DatabaseError,
    InputError,
    KeyringError,
    NotFoundError,
    PermissionDeniedError,
    RegistryError,
)
from jbgrade.registry import _audit
from jbgrade.registry._crypto import Keyring
from jbgrade.registry._db import HEAD_REVISION, current_revision
from jbgrade.registry._models import (
    Case,
    CaseGrant,
    Organization,
    User,
)
from jbgrade.registry._tables import PermissionTable, permissions
from jbgrade.registry._util import canonical_json, utc_now
from jbgrade.registry._views import (
    Actor,
)
from jbgrade.rubric import default_tables

__all__ = ["ORG_KINDS", "SORTS", "RegistryContext"]

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


class RegistryContext:
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

    def __enter__(self) -> Self:
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
        refused: RegistryError | None = None
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
            except (PermissionDeniedError, NotFoundError) as exc:
                if getattr(exc, "jbgrade_refusal", None) is None:
                    raise
                refused = exc
            if refused is not None:
                # The refused change rolled back; the refusal itself is recorded, under
                # the acting user, in a transaction of its own.
                actor, action, cls, obj_id = refused.jbgrade_refusal  # type: ignore[attr-defined]
                with s.begin():
                    obj = s.get(cls, obj_id) if obj_id else None
                    if obj is None:
                        obj = s.get(User, actor.user_id)
                    if obj is not None:
                        self._log(s, actor, f"{action}.refused", obj)
                raise refused

    @staticmethod
    def _refusal(
        exc: RegistryError, actor: Actor, action: str, cls: type[Any], obj_id: str | None
    ) -> RegistryError:
        """Mark a refusal of a write so that :meth:`_write` audits it under ``actor``."""
        exc.jbgrade_refusal = (actor, action, cls, obj_id)  # type: ignore[attr-defined]
        return exc

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
