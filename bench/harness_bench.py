"""Harness benchmark: jbgrade against garak, Inspect and raw async HTTP clients.

One local OpenAI-compatible mock on 127.0.0.1 (jbgrade's asyncio HTTP server,
TCP_NODELAY, in its own process) answers every chat completion at once (or
after a fixed latency) with the same refusal, and counts requests. In one run:

1. 1,000 single-turn prompts, refusal judging only, concurrency 16: raw
   aiohttp and raw httpx2 loops (the floor), ``jbgrade campaign run``,
   garak and Inspect (each installed by this script into its own virtualenv
   under the cache directory; never a project dependency).
2. Steady state in one process: the raw aiohttp loop and jbgrade's runner
   alternately on 4,000 prompts, CPU time per request of the client process
   (the figure least sensitive to other load on a shared machine).
3. 200 ms latency at concurrency 64 and 256: raw clients and jbgrade against
   the concurrency/latency bound.
4. Peak RSS of a 100,000-attempt jbgrade campaign against the instant mock.

Walls are for whole commands (start-up included) and, where the tool reports
it, for the request loop alone. Raw aiohttp and jbgrade run ``--repeat``
times, alternating, and the medians are shown with every run's figure.
Peers that fail to install or run are reported and skipped; the rest still
runs.

    python bench/harness_bench.py                 # everything
    python bench/harness_bench.py --skip-peers    # jbgrade and raw clients only
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
REFUSAL = "I'm sorry, but I can't help with that."
GARAK_VERSION = "0.17.1"
INSPECT_VERSION = "0.3.285"


# --------------------------------------------------------------------- the mock


def run_mock(port: int, latency_ms: float) -> None:
    """Serve the mock until killed (runs in a child process)."""
    sys.path.insert(0, str(SRC))
    from jbgrade.harness import HttpRequest, HttpResponse, HttpServer, json_response

    counts = {"chat": 0, "other": 0}
    body = {
        "id": "chatcmpl-mock",
        "object": "chat.completion",
        "created": 0,
        "model": "mock",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": REFUSAL},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 8, "completion_tokens": 10, "total_tokens": 18},
    }
    chat = json_response(body)
    models = json_response({"object": "list", "data": [{"id": "mock", "object": "model"}]})

    async def handle(req: HttpRequest) -> HttpResponse:
        if req.path.endswith("/chat/completions"):
            counts["chat"] += 1
            if latency_ms:
                await asyncio.sleep(latency_ms / 1000)
            return chat
        if req.path == "/stats":
            return json_response(counts)
        if req.path == "/stats/reset":
            counts["chat"] = counts["other"] = 0
            return json_response(counts)
        counts["other"] += 1
        if req.path.endswith("/models"):
            return models
        return json_response({"error": "no route"}, 404)

    async def main() -> None:
        server = await HttpServer(handle, "127.0.0.1", port).start()
        print(f"ready {server.port}", flush=True)
        await server.serve_forever()

    asyncio.run(main())


class Mock:
    def __init__(self, latency_ms: float = 0.0) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--mock", "0", str(latency_ms)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("ready "):
            raise RuntimeError(f"mock did not start: {line!r}")
        self.port = int(line.split()[1])
        self.base = f"http://127.0.0.1:{self.port}"
        self.url = self.base + "/v1"

    def _call(self, path: str, method: str = "GET") -> dict[str, int]:
        req = urllib.request.Request(self.base + path, method=method)
        with urllib.request.urlopen(req, timeout=30) as r:
            data: dict[str, int] = json.loads(r.read())
        return data

    def reset(self) -> None:
        self._call("/stats/reset", "POST")

    def chats(self) -> int:
        return self._call("/stats")["chat"]

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()


# ------------------------------------------------------------------ raw clients


def run_raw(client: str, url: str, n: int, conc: int) -> None:
    """A bare request loop (child process); prints the loop's wall time as JSON."""

    async def main() -> float:
        sem = asyncio.Semaphore(conc)
        payloads = [
            {
                "model": "mock",
                "messages": [{"role": "user", "content": f"[bench] placeholder request {i}"}],
            }
            for i in range(n)
        ]
        target = url + "/chat/completions"
        if client == "aiohttp":
            import aiohttp

            session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=conc))

            async def one(p: dict[str, Any]) -> None:
                async with sem, session.post(target, json=p) as r:
                    data = await r.json()
                    assert data["choices"][0]["message"]["content"]

            t0 = time.perf_counter()
            await asyncio.gather(*(one(p) for p in payloads))
            dt = time.perf_counter() - t0
            await session.close()
            return dt
        import httpx2

        limits = httpx2.Limits(max_connections=conc, max_keepalive_connections=conc)
        async with httpx2.AsyncClient(limits=limits, timeout=60) as c:

            async def one2(p: dict[str, Any]) -> None:
                async with sem:
                    r = await c.post(target, json=p)
                    assert r.json()["choices"][0]["message"]["content"]

            t0 = time.perf_counter()
            await asyncio.gather(*(one2(p) for p in payloads))
            return time.perf_counter() - t0

    print(json.dumps({"loop_s": asyncio.run(main())}))


def run_steady(url: str, n: int, conc: int, reps: int) -> None:
    """Steady state in one process (child): the raw aiohttp loop and jbgrade's
    runner alternately, ``reps`` times each, after a warm-up; prints the CPU time
    (user + system of this process) and wall time of each as JSON. The mock runs
    in its own process, so this CPU is the client's alone."""
    sys.path.insert(0, str(SRC))
    import aiohttp

    from jbgrade.harness import AttemptStore, QuietReporter, build_plan, load_spec, run_campaign

    async def raw_loop(count: int) -> tuple[float, float]:
        sem = asyncio.Semaphore(conc)
        payloads = [
            {
                "model": "mock",
                "messages": [{"role": "user", "content": f"[bench] placeholder request {i}"}],
            }
            for i in range(count)
        ]
        target = url + "/chat/completions"
        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=conc))

        async def one(p: dict[str, Any]) -> None:
            async with sem, session.post(target, json=p) as r:
                data = await r.json()
                assert data["choices"][0]["message"]["content"]

        c0, t0 = time.process_time(), time.perf_counter()
        await asyncio.gather(*(one(p) for p in payloads))
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
        await session.close()
        return dt, cpu

    with tempfile.TemporaryDirectory(prefix="jbgrade-steady-") as tmp:
        work = Path(tmp)

        async def jb_loop(count: int) -> tuple[float, float]:
            spec_path = _write_campaign(work, url, count, conc)
            plan = build_plan(load_spec(spec_path), spec_path.parent, str(spec_path))
            out = work / f"out-{time.monotonic_ns()}"
            store = AttemptStore.open(out, plan.manifest(), resume=False)
            c0, t0 = time.process_time(), time.perf_counter()
            try:
                summary = await run_campaign(plan, store, reporter=QuietReporter())
            finally:
                await plan.aclose()
                store.close()
            dt, cpu = time.perf_counter() - t0, time.process_time() - c0
            assert summary.completed == count and summary.errors == 0, summary
            shutil.rmtree(out)
            return dt, cpu

        asyncio.run(raw_loop(min(n, 500)))
        asyncio.run(jb_loop(min(n, 500)))
        rows: dict[str, list[tuple[float, float]]] = {"raw aiohttp": [], "jbgrade": []}
        for _ in range(reps):
            rows["raw aiohttp"].append(asyncio.run(raw_loop(n)))
            rows["jbgrade"].append(asyncio.run(jb_loop(n)))
    print(json.dumps(rows))


def timed(
    cmd: list[str], env: dict[str, str] | None = None, cwd: Path | None = None
) -> dict[str, Any]:
    """Run a command: wall time, exit code, the child's own CPU time and peak RSS
    (from wait4), and its output. CPU time is the robust figure on a shared,
    loaded machine, where wall time also counts waiting for a core."""
    t0 = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        p = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, cwd=cwd, text=True)
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return {
            "wall_s": wall,
            "rc": p.returncode,
            "cpu_s": usage.ru_utime + usage.ru_stime,
            "rss_mb": usage.ru_maxrss / 1024,
            "stdout": out.read(),
            "stderr": err.read(),
        }


def raw(client: str, mock: Mock, n: int, conc: int) -> dict[str, Any]:
    mock.reset()
    r = timed([sys.executable, __file__, "--raw", client, mock.url, str(n), str(conc)])
    if r["rc"] != 0:
        return {"name": f"raw {client}", "error": r["stderr"].strip()[-300:]}
    loop = json.loads(r["stdout"].strip().splitlines()[-1])["loop_s"]
    return {
        "name": f"raw {client}",
        "wall_s": r["wall_s"],
        "loop_s": loop,
        "cpu_s": r["cpu_s"],
        "requests": mock.chats(),
    }


# ---------------------------------------------------------------------- jbgrade


def _jbgrade_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(SRC) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _write_campaign(work: Path, url: str, n: int, conc: int) -> Path:
    # n prompts = n/2 behaviours x (baseline arm + one template attack).
    behaviours = work / f"bench-{n}.jsonl"
    if not behaviours.exists():
        with behaviours.open("w") as fh:
            for i in range(n // 2):
                fh.write(
                    json.dumps(
                        {
                            "id": f"bench-{i:06d}",
                            "domain": "G",
                            "category": "bench",
                            "text": f"[bench] placeholder request {i}",
                            "canary": True,
                        }
                    )
                    + "\n"
                )
    spec = work / f"bench-{n}-{conc}.yaml"
    spec.write_text(
        f"""name: bench-{n}-{conc}
seed: 1
targets:
  - {{id: mock, type: openai, base_url: "{url}", model: mock, vendor: mock, send_seed: false}}
attacks:
  - {{id: wrap, template: "Please answer: {{behaviour}}"}}
behaviours: ["{behaviours}"]
judges: [{{type: refusal}}]
limits: {{concurrency: {conc}, timeout_s: 60, retries: 0}}
"""
    )
    return spec


def jbgrade(mock: Mock, work: Path, n: int, conc: int, rss: bool = False) -> dict[str, Any]:
    mock.reset()
    spec = _write_campaign(work, mock.url, n, conc)
    out = work / f"out-{n}-{conc}-{time.monotonic_ns()}"
    cmd = [
        sys.executable,
        "-m",
        "jbgrade",
        "campaign",
        "run",
        str(spec),
        "--out",
        str(out),
        "--log-format",
        "json",
    ]
    r = timed(cmd, _jbgrade_env())
    shutil.rmtree(out, ignore_errors=True)
    if r["rc"] != 0:
        return {"name": "jbgrade", "error": r["stderr"].strip()[-300:]}
    summary = json.loads(r["stdout"].strip().splitlines()[-1])
    res = {
        "name": "jbgrade",
        "wall_s": r["wall_s"],
        "loop_s": summary["wall_s"],
        "requests": mock.chats(),
        "cpu_s": r["cpu_s"],
        "attempts": summary["completed"],
        "errors": summary["errors"],
    }
    if rss:
        res["rss_mb"] = r["rss_mb"]
    return res


# ------------------------------------------------------------------------ peers


def ensure_venv(cache: Path, name: str, packages: list[str]) -> tuple[Path | None, str]:
    """A virtualenv with ``packages`` under the cache dir; (python, note)."""
    venv = cache / name
    py = venv / "bin" / "python"
    marker = venv / ".jbgrade-bench-ok"
    if marker.exists() and marker.read_text() == " ".join(packages):
        return py, "cached"
    if not py.exists():
        r = subprocess.run(
            [sys.executable, "-m", "venv", str(venv)], capture_output=True, text=True, check=False
        )
        if r.returncode != 0:
            return None, f"venv failed: {r.stderr.strip()[-200:]}"
    t0 = time.perf_counter()
    r = subprocess.run(
        [str(py), "-m", "pip", "install", "-q", *packages],
        capture_output=True,
        text=True,
        check=False,
    )
    if r.returncode != 0:
        tail = [ln for ln in r.stderr.splitlines() if "WARNING: Location" not in ln][-3:]
        return None, "pip install failed: " + " | ".join(tail)
    marker.write_text(" ".join(packages))
    return py, f"installed in {time.perf_counter() - t0:.0f} s"


def garak(mock: Mock, work: Path, cache: Path, n: int) -> dict[str, Any]:
    py, note = ensure_venv(cache, "garak", [f"garak=={GARAK_VERSION}"])
    if py is None:
        return {"name": f"garak {GARAK_VERSION}", "error": note}
    # n prompts: a probe with n/5 prompts x 5 generations is not guaranteed to
    # exist, so garak gets its own tiny probe plug-in with exactly our prompts.
    plugdir = work / "garak_plugins"
    plugdir.mkdir(exist_ok=True)
    prompts = [f"[bench] placeholder request {i}" for i in range(n)]
    (plugdir / "prompts.json").write_text(json.dumps(prompts))
    cfg = work / "garak.yaml"
    cfg.write_text(
        f"""system:
  parallel_attempts: false
  lite: true
  show_z: false
run:
  generations: 1
plugins:
  target_type: openai.OpenAICompatible
  target_name: mock
  probe_spec: jbgrade_bench.Prompts
  detector_spec: mitigation.MitigationBypass
  generators:
    openai:
      OpenAICompatible:
        uri: {mock.url}/
        model: mock
        api_key: dummy
        suppressed_params: [n, frequency_penalty, presence_penalty, stop]
reporting:
  report_dir: {work / "garak_reports"}
"""
    )
    # Install the probe into the garak package of its own venv (never ours).
    site = subprocess.run(
        [str(py), "-c", "import garak.probes, os; print(os.path.dirname(garak.probes.__file__))"],
        capture_output=True,
        text=True,
        check=False,
    )
    if site.returncode != 0:
        return {
            "name": f"garak {GARAK_VERSION}",
            "error": "garak does not import: " + site.stderr.strip()[-200:],
        }
    probe_file = Path(site.stdout.strip()) / "jbgrade_bench.py"
    probe_file.write_text(
        f'''"""Benchmark probe: fixed benign prompts (written by jbgrade's bench)."""
import json
from garak.probes.base import Probe


class Prompts(Probe):
    """The benchmark's placeholder prompts."""

    lang = "en"
    active = False
    goal = "benchmark overhead"
    doc_uri = ""
    primary_detector = "mitigation.MitigationBypass"
    tags = []

    def __init__(self, config_root=None):
        super().__init__(config_root=config_root)
        self.prompts = json.load(open({str(plugdir / "prompts.json")!r}))
'''
    )
    mock.reset()
    env = dict(os.environ)
    env["OPENAICOMPATIBLE_API_KEY"] = "dummy"
    env["HOME"] = str(work / "garak_home")
    r = timed([str(py), "-m", "garak", "--config", str(cfg)], env=env, cwd=work)
    res: dict[str, Any] = {"name": f"garak {GARAK_VERSION}", "note": note, "wall_s": r["wall_s"]}
    res["cpu_s"] = r["cpu_s"]
    res["requests"] = mock.chats()
    if r["rc"] != 0 or res["requests"] < n:
        err = (r["stderr"] or r["stdout"]).strip().splitlines()
        res["error"] = f"rc {r['rc']}, {res['requests']} requests: " + " | ".join(err[-3:])[-400:]
    return res


def inspect(mock: Mock, work: Path, cache: Path, n: int, conc: int) -> dict[str, Any]:
    py, note = ensure_venv(cache, "inspect", [f"inspect-ai=={INSPECT_VERSION}", "openai"])
    if py is None:
        return {"name": f"inspect-ai {INSPECT_VERSION}", "error": note}
    task = work / "inspect_task.py"
    task.write_text(
        f"""from inspect_ai import Task, task
from inspect_ai.dataset import Sample
from inspect_ai.scorer import includes
from inspect_ai.solver import generate


@task
def bench():
    samples = [
        Sample(input=f"[bench] placeholder request {{i}}", target="sorry") for i in range({n})
    ]
    return Task(dataset=samples, solver=generate(), scorer=includes())
"""
    )
    mock.reset()
    env = dict(os.environ)
    env["MOCK_BASE_URL"] = mock.url
    env["MOCK_API_KEY"] = "dummy"
    env["INSPECT_LOG_DIR"] = str(work / "inspect_logs")
    r = timed(
        [
            str(py),
            "-m",
            "inspect_ai",
            "eval",
            task.name,  # relative: Inspect globs task paths and rejects absolute ones
            "--model",
            "openai-api/mock/mock",
            "--max-connections",
            str(conc),
            "--display",
            "none",
        ],
        env=env,
        cwd=work,
    )
    res: dict[str, Any] = {
        "name": f"inspect-ai {INSPECT_VERSION}",
        "note": note,
        "wall_s": r["wall_s"],
        "cpu_s": r["cpu_s"],
    }
    res["requests"] = mock.chats()
    if r["rc"] != 0 or res["requests"] < n:
        err = (r["stderr"] or r["stdout"]).strip().splitlines()
        res["error"] = f"rc {r['rc']}, {res['requests']} requests: " + " | ".join(err[-3:])[-400:]
    return res


# ---------------------------------------------------------------------- report


def _fmt(rows: list[dict[str, Any]], floor: dict[str, Any] | None, n: int) -> list[str]:
    lines = [
        "| runner | wall (command) | loop | requests at mock | loop throughput vs floor "
        "| CPU (process) | CPU per request | wall vs jbgrade |",
        "|---|---|---|---|---|---|---|---|",
    ]
    jb = next((r for r in rows if r["name"] == "jbgrade" and "error" not in r), None)
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['name']} | failed: {r['error']} | | | | | | |")
            continue
        loop = r.get("loop_s")
        ratio = f"{floor['loop_s'] / loop:.0%}" if floor and loop else ""
        vs = f"{r['wall_s'] / jb['wall_s']:.1f}x" if jb else ""
        per = 1000 * r["cpu_s"] / max(1, r["requests"])
        lines.append(
            f"| {r['name']} | {r['wall_s']:.2f} s | {'' if loop is None else f'{loop:.2f} s'} "
            f"| {r['requests']} | {ratio} | {r['cpu_s']:.2f} s | {per:.2f} ms | {vs} |"
        )
    return lines


def _median_row(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One table row for repeated runs of one runner: medians (and every run)."""
    ok = [r for r in runs if "error" not in r]
    if not ok:
        return runs[0]
    row: dict[str, Any] = {"name": ok[0]["name"], "runs": len(ok)}
    for k in ("wall_s", "loop_s", "cpu_s", "share_of_bound", "rss_mb"):
        if k in ok[0]:
            row[k] = statistics.median(r[k] for r in ok)
    row["requests"] = min(r["requests"] for r in ok)
    row["each"] = ok
    if len(ok) < len(runs):
        row["failed_runs"] = [r["error"] for r in runs if "error" in r]
    return row


def _spread(values: list[float], fmt: str = "{:.0%}") -> str:
    return ", ".join(fmt.format(v) for v in values)


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def steady(mock: Mock, n: int, conc: int, reps: int) -> dict[str, Any]:
    r = timed([sys.executable, __file__, "--steady", mock.url, str(n), str(conc), str(reps)])
    if r["rc"] != 0:
        return {"error": r["stderr"].strip()[-300:]}
    rows = json.loads(r["stdout"].strip().splitlines()[-1])
    raw_cpu = [1e6 * cpu / n for _, cpu in rows["raw aiohttp"]]
    jb_cpu = [1e6 * cpu / n for _, cpu in rows["jbgrade"]]
    pairs = list(zip(rows["raw aiohttp"], rows["jbgrade"], strict=True))
    return {
        "prompts": n,
        "raw_cpu_us": raw_cpu,
        "jbgrade_cpu_us": jb_cpu,
        "cpu_ratio": [rc / jc for (_, rc), (_, jc) in pairs],
        "wall_ratio": [rw / jw for (rw, _), (jw, _) in pairs],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--mock", nargs=2, metavar=("PORT", "LATENCY_MS"), help=argparse.SUPPRESS)
    ap.add_argument(
        "--raw", nargs=4, metavar=("CLIENT", "URL", "N", "CONC"), help=argparse.SUPPRESS
    )
    ap.add_argument(
        "--steady", nargs=4, metavar=("URL", "N", "CONC", "REPS"), help=argparse.SUPPRESS
    )
    ap.add_argument("--n", type=int, default=1000, help="prompts in the side-by-side run")
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument(
        "--repeat",
        type=int,
        default=5,
        help="runs of raw aiohttp and jbgrade (alternating) per scenario; medians are shown",
    )
    ap.add_argument(
        "--steady-prompts",
        type=int,
        default=4000,
        help="prompts per run in the in-process CPU comparison (0 to skip)",
    )
    ap.add_argument("--skip-peers", action="store_true", help="do not install/run garak, Inspect")
    ap.add_argument("--skip-latency", action="store_true")
    ap.add_argument("--memory-attempts", type=int, default=100_000, help="0 to skip")
    ap.add_argument(
        "--cache",
        type=Path,
        default=Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "jbgrade-bench",
    )
    ap.add_argument("--json", type=Path, help="also write the results as JSON here")
    args = ap.parse_args()
    if args.mock:
        run_mock(int(args.mock[0]), float(args.mock[1]))
        return
    if args.raw:
        run_raw(args.raw[0], args.raw[1], int(args.raw[2]), int(args.raw[3]))
        return
    if args.steady:
        u, sn, sc, sr = args.steady
        run_steady(u, int(sn), int(sc), int(sr))
        return

    args.cache.mkdir(parents=True, exist_ok=True)
    k = max(1, args.repeat)
    results: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}",
        "load_before": os.getloadavg(),
        "repeat": k,
    }
    print(f"# jbgrade harness benchmark, {results['date']}")
    print(f"machine: {results['machine']}; load average {_load()}")
    with tempfile.TemporaryDirectory(prefix="jbgrade-bench-") as tmp:
        work = Path(tmp)
        n, conc = args.n, args.concurrency
        mock = Mock(0)
        try:
            print(
                f"\n## {n} single-turn prompts, instant mock, concurrency {conc}, refusal judging"
                f" (raw aiohttp and jbgrade: median of {k} alternating runs)"
            )
            aio_runs: list[dict[str, Any]] = []
            jb_runs: list[dict[str, Any]] = []
            for _ in range(k):
                aio_runs.append(raw("aiohttp", mock, n, conc))
                jb_runs.append(jbgrade(mock, work, n, conc))
            rows = [_median_row(aio_runs), raw("httpx2", mock, n, conc), _median_row(jb_runs)]
            if args.skip_peers:
                print("(peers skipped: --skip-peers)")
            else:
                rows.append(garak(mock, work, args.cache, n))
                rows.append(inspect(mock, work, args.cache, n, conc))
            ok_raw = [r for r in rows if r["name"].startswith("raw") and "error" not in r]
            floor = min(ok_raw, key=lambda r: r["loop_s"]) if ok_raw else None
            for line in _fmt(rows, floor, n):
                print(line)
            jb = next((r for r in rows if r["name"] == "jbgrade" and "error" not in r), None)
            if floor and jb:
                share = floor["loop_s"] / jb["loop_s"]
                pairs = [
                    a["loop_s"] / j["loop_s"]
                    for a, j in zip(aio_runs, jb_runs, strict=True)
                    if "error" not in a and "error" not in j
                ]
                print(
                    "jbgrade throughput in the request loop = "
                    f"{statistics.median(pairs) if pairs else share:.0%} of raw aiohttp, median "
                    f"of the run-by-run ratios {_spread(pairs)} (goal >= 80%); ratio of the "
                    f"medians {share:.0%} of the fastest raw client ({floor['name']}); whole "
                    f"command {floor['wall_s'] / jb['wall_s']:.0%} of the raw client's whole "
                    "process"
                )
            results["instant"] = rows
            print(f"load average: {_load()}")

            if args.steady_prompts:
                sn = args.steady_prompts
                print(
                    f"\n## steady state in one process: {sn} prompts per run, concurrency {conc}, "
                    f"{k} alternating runs each (CPU = user + system time of the client process)"
                )
                st = steady(mock, sn, conc, k)
                if "error" in st:
                    print(f"failed: {st['error']}")
                else:
                    print(
                        f"- raw aiohttp: CPU per request {_spread(st['raw_cpu_us'], '{:.0f}')} us"
                    )
                    print(
                        f"- jbgrade: CPU per attempt {_spread(st['jbgrade_cpu_us'], '{:.0f}')} us"
                    )
                    print(
                        "jbgrade throughput if CPU-bound = "
                        f"{statistics.median(st['cpu_ratio']):.0%} of raw aiohttp (CPU ratio run "
                        f"by run: {_spread(st['cpu_ratio'])}; wall ratio: "
                        f"{_spread(st['wall_ratio'])})"
                    )
                results["steady"] = st
                print(f"load average: {_load()}")
        finally:
            mock.close()

        if not args.skip_latency:
            mock = Mock(200)
            try:
                lat: list[dict[str, Any]] = []
                for c, count in ((64, 1000), (256, 2560)):
                    bound = -(-count // c) * 0.2
                    print(
                        f"\n## 200 ms latency, concurrency {c}, {count} prompts "
                        f"(bound {bound:.2f} s; raw aiohttp and jbgrade: median of {k} runs)"
                    )
                    aio_runs, jb_runs = [], []
                    for _ in range(k):
                        aio_runs.append(raw("aiohttp", mock, count, c))
                        jb_runs.append(jbgrade(mock, work, count, c))
                    for r in [*aio_runs, *jb_runs]:
                        if "error" not in r:
                            r["share_of_bound"] = bound / r["loop_s"]
                    rows = [
                        _median_row(aio_runs),
                        raw("httpx2", mock, count, c),
                        _median_row(jb_runs),
                    ]
                    for r in rows:
                        if "error" in r:
                            print(f"- {r['name']}: failed: {r['error']}")
                            continue
                        r["bound_s"] = bound
                        r["share_of_bound"] = bound / r["loop_s"]
                        each = [e["share_of_bound"] for e in r.get("each", [r])]
                        print(
                            f"- {r['name']}: loop {r['loop_s']:.2f} s, "
                            f"command {r['wall_s']:.2f} s, "
                            f"{r['requests']} requests, {r['share_of_bound']:.0%} of the bound "
                            f"(run by run: {_spread(each)})"
                        )
                    okr = [r for r in rows if r["name"].startswith("raw") and "error" not in r]
                    jb = next(
                        (r for r in rows if r["name"] == "jbgrade" and "error" not in r), None
                    )
                    if okr and jb:
                        best = min(okr, key=lambda r: r["loop_s"])
                        print(
                            f"jbgrade / {best['name']} loop time = "
                            f"{jb['loop_s'] / best['loop_s']:.2f}x "
                            f"(goal at c64 <= 1.1x); jbgrade = {jb['share_of_bound']:.0%} of the "
                            "bound (goal at c256 >= 90%)"
                        )
                    lat.append({"concurrency": c, "prompts": count, "rows": rows})
                    print(f"load average: {_load()}")
                results["latency"] = lat
            finally:
                mock.close()

        if args.memory_attempts:
            mock = Mock(0)
            try:
                m = args.memory_attempts
                print(f"\n## memory: a {m:,}-attempt jbgrade campaign against the instant mock")
                r = jbgrade(mock, work, m, 64, rss=True)
                if "error" in r:
                    print(f"failed: {r['error']}")
                else:
                    print(
                        f"peak RSS {r['rss_mb']:.0f} MB (goal < 300 MB); {r['attempts']} attempts "
                        f"in {r['loop_s']:.1f} s ({r['attempts'] / r['loop_s']:.0f}/s), "
                        f"{r['requests']} requests, {r['errors']} errors"
                    )
                results["memory"] = r
            finally:
                mock.close()
    results["load_after"] = os.getloadavg()
    print(f"\nload average after: {_load()}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
