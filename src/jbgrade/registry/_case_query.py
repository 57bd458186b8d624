"""Listing cases: the visibility SQL and the list query object."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from jbgrade._errors import (
    InputError,
)
from jbgrade._vocab import DOMAINS
from jbgrade.registry._context import (
    _OWN_ORG,
    _REP_ORG,
    SORTS,
    RegistryContext,
    _decode_cursor,
    _encode_cursor,
    _text,
)
from jbgrade.registry._models import (
    Case,
    CaseGrant,
)
from jbgrade.registry._tables import STATES
from jbgrade.registry._views import (
    Actor,
    CasePage,
    CaseSummary,
)
from jbgrade.rubric import SEVERITIES

__all__ = ["CaseQueries", "CaseQuery"]


_COLS: tuple[Any, ...] = (
    Case.id,
    Case.title,
    Case.state,
    Case.score,
    Case.severity,
    Case.domain,
    Case.reporting_org_id,
    _REP_ORG.name.label("reporting_org_name"),
    Case.owning_org_id,
    _OWN_ORG.name.label("owning_org_name"),
    Case.embargo_until,
    Case.created_at,
    Case.updated_at,
)


def _many(v: str | Sequence[str] | None, name: str, allowed: Sequence[str]) -> tuple[str, ...]:
    vals = [v] if isinstance(v, str) else list(v or ())
    bad = [x for x in vals if x not in allowed]
    if bad:
        raise InputError(f"unknown value {bad[0]!r} (known: {', '.join(allowed)})", field=name)
    return tuple(vals)


@dataclass(frozen=True)
class CaseQuery:
    """One validated ``list_cases`` request: filters, sort order, page.

    Filters: ``state``, ``severity`` (labels), ``domain`` (HD letters) take one
    value or several; ``organization`` matches the reporting or owning org;
    ``text`` is a case-insensitive substring of title or summary. ``sort`` is one
    of ``SORTS``; ``cursor`` is the previous page's ``next_cursor``.
    """

    state: str | Sequence[str] | None = None
    severity: str | Sequence[str] | None = None
    organization: str | None = None
    domain: str | Sequence[str] | None = None
    text: str | None = None
    sort: str = "-updated_at"
    limit: int = 50
    cursor: str | None = None
    states: tuple[str, ...] = field(init=False, default=())
    severities: tuple[str, ...] = field(init=False, default=())
    domains: tuple[str, ...] = field(init=False, default=())

    def __post_init__(self) -> None:
        if self.sort not in SORTS:
            raise InputError(
                f"unknown sort {self.sort!r} (known: {', '.join(SORTS)})", field="sort"
            )
        if not isinstance(self.limit, int) or not 1 <= self.limit <= 500:
            raise InputError("limit must be 1 to 500", field="limit")
        object.__setattr__(self, "states", _many(self.state, "state", STATES))
        object.__setattr__(self, "severities", _many(self.severity, "severity", SEVERITIES))
        doms = _many(self.domain, "domain", (*DOMAINS, "X"))
        object.__setattr__(self, "domains", doms)

    @property
    def descending(self) -> bool:
        return self.sort.startswith("-")

    @property
    def key_col(self) -> Any:
        return {
            "updated_at": Case.updated_at,
            "created_at": Case.created_at,
            "score": Case.rank_score,
        }[self.sort.lstrip("-")]

    def filters(
        self, visibility: sa.ColumnElement[bool]
    ) -> tuple[list[sa.ColumnElement[bool]], list[sa.ColumnElement[bool]]]:
        """(conditions, organisation conditions) without the page bound."""
        where: list[sa.ColumnElement[bool]] = [visibility]
        if self.states:
            where.append(Case.state.in_(self.states))
        if self.severities:
            where.append(Case.severity.in_(self.severities))
        if self.domains:
            where.append(Case.domain.in_(self.domains))
        org_where: list[sa.ColumnElement[bool]] = []
        if self.organization:
            org = self.organization
            org_where.append(sa.or_(Case.reporting_org_id == org, Case.owning_org_id == org))
        if self.text:
            t = _text(self.text, "text", max_len=200)
            pat = "%" + t.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            where.append(
                sa.or_(Case.title.ilike(pat, escape="\\"), Case.summary.ilike(pat, escape="\\"))
            )
        return where, org_where

    def _bound(self) -> sa.ColumnElement[bool] | None:
        if not self.cursor:
            return None
        value, cid = _decode_cursor(self.cursor, self.sort)
        if self.sort.lstrip("-") in ("updated_at", "created_at"):
            try:
                value = datetime.fromisoformat(value)
            except (TypeError, ValueError):
                raise InputError("malformed cursor", field="cursor") from None
        elif not isinstance(value, int | float):
            raise InputError("malformed cursor", field="cursor")
        key_col = self.key_col
        pair = sa.tuple_(key_col, Case.id)
        bound = sa.tuple_(sa.literal(value, key_col.type), sa.literal(cid))
        return pair < bound if self.descending else pair > bound

    def statement(
        self, where: list[sa.ColumnElement[bool]], org_where: list[sa.ColumnElement[bool]]
    ) -> sa.Select[Any]:
        """The page query: ``limit + 1`` rows in sort order (the extra one says "more")."""
        key_col, desc, limit = self.key_col, self.descending, self.limit
        page_where = list(where)
        bound = self._bound()
        if bound is not None:
            page_where.append(bound)
        order = (key_col.desc(), Case.id.desc()) if desc else (key_col.asc(), Case.id.asc())

        def page(*extra: sa.ColumnElement[bool]) -> sa.Select[Any]:
            return (
                sa.select(*_COLS, key_col.label("sort_key"))
                .join(_REP_ORG, _REP_ORG.id == Case.reporting_org_id)
                .join(_OWN_ORG, _OWN_ORG.id == Case.owning_org_id)
                .where(*page_where, *extra)
                .order_by(*order)
                .limit(limit + 1)
            )

        org = self.organization
        if not (org and self.sort.lstrip("-") == "updated_at"):
            return page(*org_where)
        # "reporting OR owning" defeats the (org, updated_at, id) indexes (without
        # statistics SQLite even sorts every match): read each side in index order,
        # stop at a page, merge.
        a = page(Case.reporting_org_id == org).subquery()
        b = page(Case.owning_org_id == org, Case.reporting_org_id != org).subquery()
        u = sa.union_all(sa.select(a), sa.select(b)).subquery()
        uk, uid = u.c.sort_key, u.c.id
        return (
            sa.select(u)
            .order_by(*((uk.desc(), uid.desc()) if desc else (uk.asc(), uid.asc())))
            .limit(limit + 1)
        )

    def page(self, rows: Sequence[Any], total: int | None, capped: bool) -> CasePage:
        """Rows of :meth:`statement` as a page with its next cursor."""
        limit = self.limit
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
            key = kv.isoformat() if isinstance(kv, datetime) else kv
            nxt = _encode_cursor(self.sort, key, last[0])
        return CasePage(items=items, next_cursor=nxt, total=total, total_capped=capped)


class CaseQueries(RegistryContext):
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
        """Cases the actor may see, filtered, sorted, one keyset page at a time
        (see :class:`CaseQuery` for the filters). ``with_total`` counts the matches
        up to ``count_limit`` (``total_capped`` says the real number is larger)."""
        q = CaseQuery(
            state=state,
            severity=severity,
            organization=organization,
            domain=domain,
            text=text,
            sort=sort,
            limit=limit,
            cursor=cursor,
        )
        return self.run_case_query(actor, q, with_total=with_total, count_limit=count_limit)

    def run_case_query(
        self, actor: Actor, q: CaseQuery, *, with_total: bool = False, count_limit: int = 10_000
    ) -> CasePage:
        """Run a :class:`CaseQuery` for an actor."""
        where, org_where = q.filters(self._visibility(actor, self._now()))
        stmt = q.statement(where, org_where)
        with self._read() as s:
            self._check_actor(s, actor)
            rows = s.execute(stmt).all()
            total, capped = None, False
            if with_total:
                # Counting every visible match costs a scan; a list needs "10,000+" at most.
                sub = sa.select(Case.id).where(*where, *org_where).limit(count_limit + 1).subquery()
                n = s.execute(sa.select(sa.func.count()).select_from(sub)).scalar_one()
                total, capped = min(n, count_limit), n > count_limit
        return q.page(rows, total, capped)
