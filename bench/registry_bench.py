"""Case-list latency of the registry with N cases, on SQLite and PostgreSQL.

Seeds N cases (default 100,000) with ``jbgrade.registry.seed_cases``, then times
``Registry.list_cases`` (permission filter, joins, keyset pagination, pydantic
records) for several queries and actors, and side by side the bare indexed SQL
of the same first page (no visibility rule, no joins, no records) as the floor
a list cannot beat. Prints p50/p95 per query, and the ratio to the floor.
Also times deep pages: keyset cursor vs OFFSET.

    PYTHONPATH=src python bench/registry_bench.py [--n 100000] [--pg-url URL]

PostgreSQL runs when --pg-url or JBGRADE_TEST_PG_URL is set; the bench creates
and drops its own database there.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from jbgrade.registry import Keyring, Registry, make_engine, seed_cases, upgrade


def pct(xs: list[float], p: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))]


def timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    fn()  # warm caches and the statement cache
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def run_backend(
    name: str, url: str, n: int, repeat: int, *, analyze: bool
) -> list[tuple[str, float, float]]:
    eng = make_engine(url)
    upgrade(eng)
    reg = Registry(eng, Keyring.generate())
    t = time.perf_counter()
    res = seed_cases(reg, n)
    seed_s = time.perf_counter() - t
    if analyze:
        with eng.begin() as c:
            c.exec_driver_sql("ANALYZE")
    print(
        f"\n== {name}: seeded {res.cases} cases + {res.assessments} assessments in {seed_s:.1f} s"
    )
    page2 = reg.list_cases(res.reporter, limit=50).next_cursor
    deep = None
    cur = None
    for _ in range(20):  # cursor of page 21
        cur = reg.list_cases(res.reporter, limit=50, cursor=cur).next_cursor
    deep = cur
    org = res.lab_assessor.org_id
    queries: list[tuple[str, Callable[[], Any]]] = [
        ("first page, reporter (sees all)", lambda: reg.list_cases(res.reporter)),
        ("first page, outsider (embargo rule)", lambda: reg.list_cases(res.outsider)),
        ("first page, lab assessor", lambda: reg.list_cases(res.lab_assessor)),
        ("page 2 (cursor)", lambda: reg.list_cases(res.reporter, cursor=page2)),
        ("page 21 (cursor)", lambda: reg.list_cases(res.reporter, cursor=deep)),
        ("state=triaged", lambda: reg.list_cases(res.outsider, state="triaged")),
        ("severity=Critical", lambda: reg.list_cases(res.outsider, severity="Critical")),
        ("domain=C, sort -score", lambda: reg.list_cases(res.outsider, domain="C", sort="-score")),
        ("organization=lab 0", lambda: reg.list_cases(res.outsider, organization=org)),
        ("organization=lab 0, reporter", lambda: reg.list_cases(res.reporter, organization=org)),
        (
            "org + severity=High + state=assessed",
            lambda: reg.list_cases(
                res.reporter, organization=org, severity="High", state="assessed"
            ),
        ),
        ("text='crescendo'", lambda: reg.list_cases(res.outsider, text="crescendo")),
        ("sort -score", lambda: reg.list_cases(res.outsider, sort="-score")),
        ("first page + total count", lambda: reg.list_cases(res.outsider, with_total=True)),
    ]
    floor_sql = sa.text(
        "SELECT id, title, state, score, severity FROM cases "
        "ORDER BY updated_at DESC, id DESC LIMIT 51"
    )
    offset_sql = sa.text(
        "SELECT id, title, state, score, severity FROM cases "
        "ORDER BY updated_at DESC, id DESC LIMIT 51 OFFSET 1000"
    )

    def raw(stmt: sa.TextClause) -> Callable[[], Any]:
        def go() -> Any:
            with eng.connect() as c:
                return c.execute(stmt).all()

        return go

    floor = timed(raw(floor_sql), repeat)
    f50 = statistics.median(floor)
    rows = []
    print(f"{'query':40} {'p50 ms':>8} {'p95 ms':>8} {'x floor':>8}")
    for label, fn in queries:
        xs = timed(fn, repeat)
        p50, p95 = statistics.median(xs), pct(xs, 95)
        rows.append((label, p50, p95))
        print(f"{label:40} {p50:8.2f} {p95:8.2f} {p50 / f50:8.1f}")
    print(f"{'floor: bare indexed SQL, first page':40} {f50:8.2f} {pct(floor, 95):8.2f} {1.0:8.1f}")
    off = timed(raw(offset_sql), repeat)
    print(
        f"{'bare SQL, OFFSET 1000 (page 21)':40} {statistics.median(off):8.2f} {pct(off, 95):8.2f}"
    )
    t = time.perf_counter()
    rep = reg.verify_audit()
    print(f"audit verify of {rep.entries} entries: {time.perf_counter() - t:.1f} s, ok={rep.ok}")
    reg.close()
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=200)
    ap.add_argument("--pg-url", default=os.environ.get("JBGRADE_TEST_PG_URL"))
    ap.add_argument("--skip-sqlite", action="store_true")
    ap.add_argument(
        "--analyze", action="store_true", help="ANALYZE after seeding (default: as deployed)"
    )
    args = ap.parse_args()
    print(f"registry list bench: n={args.n}, repeat={args.repeat}, load {os.getloadavg()}")
    results: dict[str, list[tuple[str, float, float]]] = {}
    if not args.skip_sqlite:
        with tempfile.TemporaryDirectory() as d:
            results["sqlite"] = run_backend(
                "SQLite",
                f"sqlite:///{Path(d) / 'bench.db'}",
                args.n,
                args.repeat,
                analyze=args.analyze,
            )
    if args.pg_url:
        base = make_url(args.pg_url).set(drivername="postgresql+psycopg")
        admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
        name = f"jbg_bench_{secrets.token_hex(4)}"
        with admin.connect() as c:
            c.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            results["postgresql"] = run_backend(
                "PostgreSQL",
                base.set(database=name).render_as_string(hide_password=False),
                args.n,
                args.repeat,
                analyze=args.analyze,
            )
        finally:
            with admin.connect() as c:
                c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.dispose()
    worst = {b: max(p95 for _, _, p95 in rows) for b, rows in results.items()}
    for b, w in worst.items():
        print(f"{b}: worst p95 over all queries {w:.1f} ms (goal < 100 ms)")
    print(f"load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
