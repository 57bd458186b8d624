"""Scale benchmark: the local executor vs Ray (1 and 2 nodes on this machine).

One ``jbgrade target serve`` process serves three reference models with a fixed
latency per chat completion (200 ms by default) and records every arrival. A
campaign of about ``--attempts`` single-turn attempts (the baseline and one
attack, the 48 canary behaviours x samples x three targets, refusal judging) runs against it:

- target ``fast``: no rate limit (bounded by concurrency / latency),
- target ``mid``: ``requests_per_s`` = ``--mid-rate``,
- target ``slow``: ``requests_per_s`` = ``--slow-rate``,

with ``limits.concurrency`` = ``--concurrency``, by

1. the local asyncio executor (the default),
2. ``--executor ray`` on a one-node loopback cluster (``ray start --head``),
3. ``--executor ray`` on a two-node loopback cluster (head + ``ray start --address``).

Each cluster is started as separate processes in their own session with a
temporary HOME and temp dir (token authentication on) and killed afterwards.

Printed per mode: wall time of the command, attempts/s against the bound
(the larger of attempts / (concurrency / latency) and, per limited target, its
attempts / its rate), the rate each target measured (whole run, and the
busiest 1 s window) against its limit, and Ray's scaling efficiency
(2-node throughput / 1-node throughput; the bound is the same, so 100% is ideal
on one machine). Every planned attempt must be stored exactly once.

    python bench/scale_bench.py                       # 100,000 attempts, all modes
    python bench/scale_bench.py --attempts 5000 --modes local,ray2
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BEHAVIOURS = 48  # the bundled canary set
ARMS = 2  # the baseline and one bundled attack (a spec needs one)
MODELS = ("fast", "mid", "slow")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _jbgrade() -> list[str]:
    return [sys.executable, "-m", "jbgrade"]


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def write_configs(work: Path) -> Path:
    import yaml

    base = yaml.safe_load((ROOT / "examples/campaigns/reference-target.yaml").read_text())
    models = []
    for m in MODELS:
        c = dict(base)
        c["model"] = m
        models.append(c)
    path = work / "targets.yaml"
    path.write_text(yaml.safe_dump({"models": models}))
    return path


def write_spec(  # noqa: PLR0917
    work: Path, url: str, attempts: int, conc: int, mid: float, slow: float
) -> Path:
    import yaml

    samples = max(1, math.ceil(attempts / (BEHAVIOURS * ARMS * len(MODELS))))
    rates = {"fast": None, "mid": mid, "slow": slow}
    spec = {
        "name": "scale-bench",
        "seed": 1,
        "samples": samples,
        "targets": [
            {
                "id": m,
                "type": "openai",
                "base_url": url,
                "model": m,
                "hints": True,
                **({"requests_per_s": rates[m]} if rates[m] else {}),
            }
            for m in MODELS
        ],
        "attacks": ["roleplay"],
        "behaviours": ["canary"],
        "judges": [{"type": "refusal"}],
        "limits": {"concurrency": conc, "timeout_s": 60, "retries": 3},
    }
    path = work / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


class Server:
    def __init__(self, work: Path, latency_ms: float) -> None:
        self.proc = subprocess.Popen(
            [*_jbgrade(), "target", "serve", "--port", "0", "--config", str(write_configs(work)),
             "--latency-ms", str(latency_ms)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        self.url = line.strip().rsplit(" on ", 1)[1]
        self.base = self.url.rsplit("/v1", 1)[0]

    def call(self, path: str, method: str = "GET") -> Any:
        req = urllib.request.Request(
            self.base + path, method=method, data=b"" if method == "POST" else None
        )
        with urllib.request.urlopen(req, timeout=60) as r:
            return json.loads(r.read())

    def close(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.communicate()


class Cluster:
    """A loopback Ray cluster of ``nodes`` processes, each in its own session."""

    def __init__(self, nodes: int, cpus: int) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="jbray-", dir="/tmp"))
        (self.root / "home").mkdir()
        self.env = dict(os.environ)
        self.env.update(
            HOME=str(self.root / "home"),
            RAY_AUTH_MODE="token",
            RAY_AUTH_TOKEN=secrets.token_hex(32),
            RAY_USAGE_STATS_ENABLED="0",
        )
        port = _free_port()
        self.address = f"127.0.0.1:{port}"
        ray = str(Path(sys.executable).parent / "ray")
        common = ["--num-cpus", str(cpus), "--disable-usage-stats", "--block",
                  "--node-ip-address", "127.0.0.1"]  # fmt: skip
        self.procs: list[subprocess.Popen[bytes]] = []
        self._start([ray, "start", "--head", "--port", str(port), "--include-dashboard",
                     "false", "--temp-dir", str(self.root / "ray"), *common])  # fmt: skip
        self._wait(1)
        for _ in range(nodes - 1):
            self._start([ray, "start", "--address", self.address, *common])
        self._wait(nodes)

    def _start(self, cmd: list[str]) -> None:
        self.procs.append(
            subprocess.Popen(
                cmd,
                env=self.env,
                start_new_session=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )

    def _wait(self, n: int) -> None:
        code = (
            "import ray, sys; ray.init(address=sys.argv[1], log_to_driver=False);"
            "print(sum(1 for x in ray.nodes() if x['Alive']))"
        )
        for _ in range(120):
            r = subprocess.run(
                [sys.executable, "-c", code, self.address], env=self.env,
                capture_output=True, text=True, check=False,
            )  # fmt: skip
            if r.returncode == 0 and int(r.stdout.strip().splitlines()[-1]) >= n:
                return
            time.sleep(1)
        raise RuntimeError(f"the cluster did not reach {n} nodes")

    def close(self) -> None:
        for p in reversed(self.procs):
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(p.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    p.wait(timeout=10)
                    break
                except subprocess.TimeoutExpired:
                    continue
        shutil.rmtree(self.root, ignore_errors=True)


def rates(arrivals: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    out = {}
    for m in MODELS:
        ts = sorted(arrivals.get(m, []))
        if len(ts) < 2:
            continue
        peak, j = 0, 0
        for i, t in enumerate(ts):
            while ts[j] <= t - 1.0:
                j += 1
            peak = max(peak, i - j + 1)
        out[m] = {
            "requests": len(ts),
            "mean_per_s": (len(ts) - 1) / (ts[-1] - ts[0]),
            "peak_1s": float(peak),
        }
    return out


def run_mode(  # noqa: PLR0917
    mode: str, server: Server, spec: Path, work: Path, cpus: int, timeout: float
) -> dict[str, Any]:
    server.call("/stats/reset", "POST")
    out = work / f"out-{mode}"
    cmd = [*_jbgrade(), "campaign", "run", str(spec), "--out", str(out), "--quiet"]
    cluster = None
    env = dict(os.environ)
    try:
        if mode.startswith("ray"):
            cluster = Cluster(int(mode[3:]), cpus)
            env = cluster.env
            cmd += ["--executor", "ray", "--address", cluster.address]
        t0 = time.perf_counter()
        r = subprocess.run(
            cmd, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
        wall = time.perf_counter() - t0
    finally:
        if cluster is not None:
            cluster.close()
    if r.returncode != 0:
        return {"mode": mode, "error": (r.stderr or r.stdout).strip()[-400:]}
    sys.path.insert(0, str(ROOT / "src"))
    from jbgrade.harness import iter_attempt_records, load_manifest, read_runs

    keys = Counter(a.key for a in iter_attempt_records(out))
    run = read_runs(out)[-1]
    result = {
        "mode": mode,
        "wall_s": wall,
        "loop_s": run["wall_s"],
        "planned": load_manifest(out).planned,
        "stored": len(keys),
        "duplicates": sum(n - 1 for n in keys.values()),
        "errors": run["errors"],
        "target": rates(server.call("/stats/arrivals")),
    }
    shutil.rmtree(out)
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--attempts", type=int, default=100_000)
    ap.add_argument("--latency-ms", type=float, default=200.0)
    ap.add_argument("--concurrency", type=int, default=256)
    ap.add_argument("--mid-rate", type=float, default=600.0)
    ap.add_argument("--slow-rate", type=float, default=400.0)
    ap.add_argument("--modes", default="local,ray1,ray2")
    ap.add_argument("--cpus", type=int, default=1, help="--num-cpus of each Ray node")
    ap.add_argument("--timeout", type=float, default=1800.0, help="per mode, seconds")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    res: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}",
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "modes": [],
    }
    print(f"# jbgrade scale benchmark, {res['date']}; {res['machine']}; load {_load()}")
    limits = {"fast": None, "mid": args.mid_rate, "slow": args.slow_rate}
    with tempfile.TemporaryDirectory(prefix="jbgrade-scale-") as tmp:
        work = Path(tmp)
        server = Server(work, args.latency_ms)
        try:
            spec = write_spec(
                work, server.url, args.attempts, args.concurrency, args.mid_rate, args.slow_rate
            )
            per_target = math.ceil(args.attempts / (BEHAVIOURS * ARMS * 3)) * BEHAVIOURS * ARMS
            total = per_target * 3
            bound_s = max(
                total / (args.concurrency / (args.latency_ms / 1000.0)),
                per_target / args.mid_rate,
                per_target / args.slow_rate,
            )
            print(
                f"{total} attempts, {args.latency_ms:g} ms latency, concurrency "
                f"{args.concurrency}; bound {bound_s:.1f} s = {total / bound_s:.0f} attempts/s"
            )
            for mode in args.modes.split(","):
                load0 = _load()
                r = run_mode(mode, server, spec, work, args.cpus, args.timeout)
                r["load_before"], r["load_after"] = load0, _load()
                res["modes"].append(r)
                if "error" in r:
                    print(f"{mode}: FAILED: {r['error']}")
                    continue
                thr = r["stored"] / r["loop_s"]
                r["attempts_per_s"] = thr
                r["share_of_bound"] = total / bound_s and thr / (total / bound_s)
                adher = ", ".join(
                    f"{m} {v['mean_per_s']:.0f}/s (peak 1 s {v['peak_1s']:.0f})"
                    + (f" limit {limits[m]:g}" if limits[m] else "")
                    for m, v in r["target"].items()
                )
                print(
                    f"{mode}: {r['stored']}/{r['planned']} stored, {r['duplicates']} duplicates, "
                    f"{r['errors']} errors; loop {r['loop_s']:.1f} s, command {r['wall_s']:.1f} s;"
                    f" {thr:.0f} attempts/s = {r['share_of_bound']:.0%} of the bound; "
                    f"measured at the target: {adher}; load {r['load_before']} -> "
                    f"{r['load_after']}"
                )
        finally:
            server.close()
    by = {r["mode"]: r for r in res["modes"] if "error" not in r}
    if "ray1" in by and "ray2" in by:
        eff = by["ray2"]["attempts_per_s"] / by["ray1"]["attempts_per_s"]
        res["ray_2_vs_1_nodes"] = eff
        print(f"Ray 2 nodes / 1 node throughput: {eff:.0%} (same bound; 100% = no loss)")
    if "local" in by and "ray1" in by:
        print(
            "Ray 1 node / local throughput: "
            f"{by['ray1']['attempts_per_s'] / by['local']['attempts_per_s']:.0%}"
        )
    if args.json:
        args.json.write_text(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
