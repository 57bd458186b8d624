"""API and web benchmarks over real HTTP on loopback.

1. ``POST /api/v1/grade`` at a fixed arrival rate (open loop: each request is sent
   at its scheduled instant whether or not earlier ones have answered, and its
   latency counts from that instant, so a stall is not hidden), against the
   jbgrade app under uvicorn in its own process; side by side with the peer: the
   ``cvss`` package scoring CVSS 4.0 vectors behind a minimal FastAPI endpoint
   under uvicorn, at the same rate. Goal: p99 < 20 ms at 200 requests/s.
2. The case list with N cases (default 100,000, seeded with the registry's
   ``seed_cases``) on SQLite and, with ``--pg-url``, PostgreSQL: ``GET
   /api/v1/cases`` (first page, a filtered page, the next page by cursor, with
   the total count) and the ``/cases`` page, sequential requests; side by side
   with the peer floor: the same first page read by one raw SQL query. Goal: p95 <
   100 ms.

Usage: python bench/api_bench.py [--rate 200] [--seconds 15] [--cases 100000]
       [--pg-url postgresql+psycopg://...] [--skip-grade] [--skip-list]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import httpx2

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _pct(xs: list[float], p: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s)) - 1))]


def _summary(name: str, lat_ms: list[float], errors: int = 0) -> dict[str, float]:
    out = {
        "n": float(len(lat_ms)),
        "p50": _pct(lat_ms, 50),
        "p95": _pct(lat_ms, 95),
        "p99": _pct(lat_ms, 99),
        "max": max(lat_ms),
        "mean": statistics.fmean(lat_ms),
    }
    print(
        f"  {name:<44} n={len(lat_ms):>5}  p50 {out['p50']:7.2f} ms  p95 {out['p95']:7.2f} ms  "
        f"p99 {out['p99']:7.2f} ms  max {out['max']:7.2f} ms"
        + (f"  errors {errors}" if errors else "")
    )
    return out


def _start(code: str, port: int, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), str(port)],
        env={**os.environ, "PYTHONPATH": str(ROOT / "src"), **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx2.get(f"http://127.0.0.1:{port}/health", timeout=1)
            return proc
        except httpx2.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start")


JBGRADE_SERVER = """
    import sys, uvicorn, os
    from jbgrade.api import Settings
    from jbgrade.web import create_app
    # Rate limits stay on (their cost is measured) but high enough for one load client.
    s = Settings(db_url=os.environ.get("BENCH_DB_URL") or None, rate_limit_per_s=1e6,
                 rate_burst=1_000_000, page_size=50)
    app = create_app(s)
    app.add_api_route("/health", lambda: {"ok": True})
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="error",
                access_log=False)
"""

PEER_SERVER = """
    import sys, uvicorn
    from cvss import CVSS4
    from fastapi import FastAPI
    from pydantic import BaseModel
    class Body(BaseModel):
        vector: str
    app = FastAPI()
    @app.get("/health")
    async def health(): return {"ok": True}
    @app.post("/score")
    async def score(body: Body):
        c = CVSS4(body.vector)
        return {"vector": c.clean_vector(), "score": c.base_score, "severity": c.severity}
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="error",
                access_log=False)
"""


def _jbg_vectors(n: int, rng: random.Random) -> list[str]:
    from jbgrade.rubric import NOT_ASSESSED, default_tables

    t = default_tables()
    return [
        t.prefix
        + "/".join(
            f"{m.key}:{rng.choice([*m.letters, NOT_ASSESSED] if rng.random() < 0.1 else m.letters)}"
            for m in t.metrics
        )
        for _ in range(n)
    ]


def _cvss_vectors(n: int, rng: random.Random) -> list[str]:
    base = {
        "AV": "NALP", "AC": "LH", "AT": "NP", "PR": "NLH", "UI": "NPA",
        "VC": "HLN", "VI": "HLN", "VA": "HLN", "SC": "HLN", "SI": "HLN", "SA": "HLN",
    }  # fmt: skip
    return [
        "CVSS:4.0/" + "/".join(f"{k}:{rng.choice(v)}" for k, v in base.items()) for _ in range(n)
    ]


async def _open_loop(
    url: str, bodies: list[dict[str, str]], rate: float
) -> tuple[list[float], int]:
    lat: list[float] = []
    errors = 0
    limits = httpx2.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx2.AsyncClient(limits=limits, timeout=10) as client:
        # Warm up connections and code paths (not measured).
        for b in bodies[:50]:
            await client.post(url, json=b)
        loop = asyncio.get_running_loop()
        start = loop.time() + 0.2

        async def one(i: int, body: dict[str, str]) -> None:
            nonlocal errors
            at = start + i / rate
            await asyncio.sleep(max(0.0, at - loop.time()))
            try:
                r = await client.post(url, json=body)
                ok = r.status_code == 200
            except httpx2.HTTPError:
                ok = False
            if ok:
                lat.append((loop.time() - at) * 1000)
            else:
                errors += 1

        await asyncio.gather(*(one(i, b) for i, b in enumerate(bodies)))
    return lat, errors


def bench_grade(rate: float, seconds: float, rounds: int = 4) -> None:
    """Both servers up at once; short rounds alternate between them, so a burst of load
    from elsewhere on the machine hits both sides alike."""
    per_round = int(rate * seconds / rounds)
    rng = random.Random(1)
    print(
        f"\nPOST /api/v1/grade at {rate:.0f} requests/s, {rounds} alternating rounds of "
        f"{seconds / rounds:.0f} s per side (open loop)"
    )
    jp, pp = _free_port(), _free_port()
    ours = _start(JBGRADE_SERVER, jp)
    peer = _start(PEER_SERVER, pp)
    lat_o: list[float] = []
    lat_p: list[float] = []
    err_o = err_p = 0
    try:
        for _ in range(rounds):
            lat, err = asyncio.run(
                _open_loop(
                    f"http://127.0.0.1:{jp}/api/v1/grade",
                    [{"vector": v} for v in _jbg_vectors(per_round, rng)],
                    rate,
                )
            )
            lat_o += lat
            err_o += err
            lat, err = asyncio.run(
                _open_loop(
                    f"http://127.0.0.1:{pp}/score",
                    [{"vector": v} for v in _cvss_vectors(per_round, rng)],
                    rate,
                )
            )
            lat_p += lat
            err_p += err
    finally:
        for proc in (ours, peer):
            proc.terminate()
            proc.wait()
    s_ours = _summary("jbgrade POST /api/v1/grade (full grade JSON)", lat_o, err_o)
    s_peer = _summary("peer: cvss CVSS4 score behind bare FastAPI", lat_p, err_p)
    print(
        f"  ratio p99 peer/jbgrade = {s_peer['p99'] / s_ours['p99']:.2f}  "
        f"(goal: jbgrade p99 < 20 ms: {'met' if s_ours['p99'] < 20 else 'NOT met'})"
    )


def _seed(url: str, n: int) -> tuple[str, str, str]:
    """Seed n cases; return the reporter's and the lab assessor's API tokens and a cursor-free
    org filter value."""
    from jbgrade.registry import Keyring, Registry, make_engine, seed_cases, upgrade

    eng = make_engine(url)
    upgrade(eng)
    reg = Registry(eng, Keyring.generate())
    t = time.perf_counter()
    res = seed_cases(reg, n)
    took = time.perf_counter() - t
    print(f"  seeded {res.cases} cases ({res.assessments} assessments) in {took:.0f} s")
    rep = reg.issue_token(res.admin, res.reporter.user_id).token.get_secret_value()
    lab = reg.issue_token(res.admin, res.lab_assessor.user_id).token.get_secret_value()
    eng.dispose()
    return rep, lab, res.lab_assessor.org_id


def _sequential(client: httpx2.Client, url: str, n: int, headers: dict[str, str]) -> list[float]:
    for _ in range(5):
        client.get(url, headers=headers)
    lat = []
    for _ in range(n):
        t = time.perf_counter()
        r = client.get(url, headers=headers)
        lat.append((time.perf_counter() - t) * 1000)
        assert r.status_code == 200, r.text[:200]
    return lat


def _raw_first_page(url: str, n: int) -> list[float]:
    import sqlalchemy as sa

    from jbgrade.registry import make_engine

    eng = make_engine(url)
    q = sa.text(
        "SELECT id, title, state, score, severity, updated_at FROM cases "
        "ORDER BY updated_at DESC, id DESC LIMIT 50"
    )
    lat = []
    with eng.connect() as c:
        for _ in range(5):
            c.execute(q).all()
        for _ in range(n):
            t = time.perf_counter()
            c.execute(q).all()
            lat.append((time.perf_counter() - t) * 1000)
    eng.dispose()
    return lat


def bench_list(label: str, url: str, n_cases: int, n_req: int) -> None:
    print(f"\nCase list with {n_cases:,} cases on {label}")
    rep, lab, lab_org = _seed(url, n_cases)
    port = _free_port()
    srv = _start(JBGRADE_SERVER, port, {"BENCH_DB_URL": url})
    base = f"http://127.0.0.1:{port}"
    results = {}
    try:
        with httpx2.Client(base_url=base, timeout=30) as c:
            h = {"authorization": f"Bearer {rep}"}
            first = c.get("/api/v1/cases?limit=50", headers=h).json()
            cursor = first["next_cursor"]
            lab_h = {"authorization": f"Bearer {lab}"}
            q = "/api/v1/cases?limit=50"
            cases = [
                ("GET /api/v1/cases (first page, 50)", q, h),
                ("GET /api/v1/cases?total=true", q + "&total=true", h),
                ("GET /api/v1/cases?severity=High&state=assessed",
                 q + "&severity=High&state=assessed", h),
                ("GET /api/v1/cases (next page by cursor)", q + f"&cursor={cursor}", h),
                ("GET /api/v1/cases?domain=C (lab assessor)", q + "&domain=C", lab_h),
                ("GET /api/v1/cases?organization=<lab>", q + f"&organization={lab_org}", h),
            ]  # fmt: skip
            for name, path, hdr in cases:
                results[name] = _summary(name, _sequential(c, path, n_req, hdr))
        # The HTML page: the same query plus the count, the org list and the rendering.
        with httpx2.Client(base_url=base, timeout=30) as c:
            lat = _sequential(
                c, "/cases", n_req, {"authorization": f"Bearer {rep}", "accept": "text/html"}
            )
            results["page"] = _summary("GET /cases (HTML page)", lat)
            lat = _sequential(
                c,
                "/cases?count=1",
                n_req,
                {"authorization": f"Bearer {rep}", "accept": "text/html"},
            )
            results["page+count"] = _summary("GET /cases?count=1 (HTML page, exact count)", lat)
    finally:
        srv.terminate()
        srv.wait()
    peer = _summary("peer floor: one raw SQL first-page query", _raw_first_page(url, n_req))
    ours = results["GET /api/v1/cases (first page, 50)"]
    worst = max(r["p95"] for r in results.values())
    print(
        f"  ratio p95 jbgrade first page / raw SQL = {ours['p95'] / peer['p95']:.1f}; "
        f"worst p95 {worst:.1f} ms (goal < 100 ms: {'met' if worst < 100 else 'NOT met'})"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rate", type=float, default=200.0)
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--requests", type=int, default=200, help="sequential requests per list query")
    ap.add_argument("--pg-url", default=os.environ.get("JBGRADE_TEST_PG_URL"))
    ap.add_argument("--skip-grade", action="store_true")
    ap.add_argument("--skip-list", action="store_true")
    a = ap.parse_args()
    load = os.getloadavg()
    print(
        f"jbgrade API bench · {platform.node()} · {platform.processor() or platform.machine()} · "
        f"{os.cpu_count()} CPUs · Python {platform.python_version()} · "
        f"{time.strftime('%Y-%m-%d %H:%M')} · load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    if not a.skip_grade:
        bench_grade(a.rate, a.seconds)
    if not a.skip_list:
        with tempfile.TemporaryDirectory() as d:
            bench_list("SQLite", f"sqlite:///{Path(d) / 'bench.db'}", a.cases, a.requests)
        if a.pg_url:
            import sqlalchemy as sa

            from jbgrade.registry import make_engine

            name = f"jbg_bench_{secrets.token_hex(3)}"
            admin = make_engine(a.pg_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as c:
                c.execute(sa.text(f'CREATE DATABASE "{name}"'))
            try:
                url = str(sa.make_url(a.pg_url).set(database=name).render_as_string(False))
                bench_list("PostgreSQL", url, a.cases, a.requests)
            finally:
                with admin.connect() as c:
                    c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()
    print(f"\nload after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
