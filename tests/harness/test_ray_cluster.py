"""The Ray executor on a real two-node cluster on loopback.

A head and a second node are started as separate ``ray start --block``
processes (own session, own temp dir, HOME pointed at a temporary directory
so Ray's ``~/.ray/auth_token`` and other files land there; token
authentication on, with a token made for the test). ``jbgrade campaign run
--executor ray --address`` runs the bundled HTTP campaign across both against
the reference target with injected latency and a rate limit; one worker is
SIGKILLed mid-run, then the driver, and the campaign resumed. Checked: every
planned attempt stored once, the results equal to a local run's, the rate the
target measured within the limit, at most ``concurrency`` repeated requests
per kill. A second campaign meets a target that answers 429 + Retry-After for a
window: every worker pauses (measured at the target) and nothing is lost. The
cluster is shared by the module's tests. Teardown kills the cluster's process
groups (by id) and removes the temporary directory.
"""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from jbgrade.harness import iter_attempt_records, load_manifest
from tests.conftest import require_or_skip

from .test_acceptance import _facts, _get, _jbgrade, served  # noqa: F401 - the fixture
from .test_shards import _limited_spec, arrivals, check_pause, check_rate, overload, throttled

pytestmark = pytest.mark.slow

RATE = 10.0
CONCURRENCY = 8


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ray_bin() -> str:
    return str(Path(sys.executable).parent / "ray")


@pytest.fixture(scope="module")
def cluster() -> Iterator[tuple[str, dict[str, str], list[subprocess.Popen[bytes]]]]:
    if importlib.util.find_spec("ray") is None:
        require_or_skip("JBGRADE_REQUIRE_RAY", "the 'ray' extra is not installed")
    # A short path: Ray's Unix socket paths must stay under ~100 characters.
    root = Path(tempfile.mkdtemp(prefix="jbray-", dir="/tmp"))
    home = root / "home"
    home.mkdir()
    env = dict(os.environ)
    env.update(
        HOME=str(home),
        RAY_AUTH_MODE="token",
        RAY_AUTH_TOKEN=secrets.token_hex(32),
        RAY_USAGE_STATS_ENABLED="0",
    )
    port = _free_port()
    address = f"127.0.0.1:{port}"
    common = ["--num-cpus", "1", "--disable-usage-stats", "--block"]
    procs: list[subprocess.Popen[bytes]] = []
    try:
        head = subprocess.Popen(
            [_ray_bin(), "start", "--head", "--node-ip-address", "127.0.0.1",
             "--port", str(port), "--include-dashboard", "false",
             "--temp-dir", str(root / "ray"), *common],
            env=env, start_new_session=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        procs.append(head)
        _wait_nodes(address, env, 1)
        node = subprocess.Popen(
            [_ray_bin(), "start", "--address", address, "--node-ip-address", "127.0.0.1",
             *common],
            env=env, start_new_session=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        procs.append(node)
        _wait_nodes(address, env, 2)
        yield address, env, procs
    finally:
        for p in reversed(procs):
            _kill_group(p)
        shutil.rmtree(root, ignore_errors=True)


def _kill_group(p: subprocess.Popen[bytes]) -> None:
    for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(p.pid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not _group_alive(p.pid):
                break
            time.sleep(0.2)
        else:
            continue
        break
    p.wait(timeout=10)


def _group_alive(sid: int) -> bool:
    return bool(_session_pids(sid))


def _ray_processes() -> list[tuple[int, int, str]]:
    """(pid, session id, title) of every ``ray::`` process: the failure report."""
    out = []
    for d in Path("/proc").iterdir():
        try:
            cmd = (d / "cmdline").read_bytes() if d.name.isdigit() else b""
            if cmd.startswith(b"ray::"):
                title = cmd.split(b"\0")[0][:60].decode(errors="replace")
                out.append((int(d.name), os.getsid(int(d.name)), title))
        except (ProcessLookupError, PermissionError, FileNotFoundError):
            continue
    return out


def _session_pids(sid: int, title: str = "") -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            if os.getsid(int(d.name)) != sid:
                continue
            cmd = (d / "cmdline").read_bytes()
        except (ProcessLookupError, PermissionError, FileNotFoundError):
            continue
        if title.encode() in cmd:
            out.append(int(d.name))
    return out


# One probe process connects once and polls the node table until ``n`` nodes are
# alive (connecting is the costly part: a probe per poll starved itself on a
# loaded 2-core machine); it is started again only if it could not connect.
#
# "Alive" in the node table is not enough: the head's scheduler learns of a new
# node's resources a little later, and until then a soft node-affinity request for
# it falls back to the head (the campaign then ran no worker on the second node).
# So the probe waits until a task pinned (hard affinity) to every node ran there.
_PROBE = """
import sys, time
import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy as On
ray.init(address=sys.argv[1], log_to_driver=False)

@ray.remote(num_cpus=0)
def where():
    return ray.get_runtime_context().get_node_id()

end = time.monotonic() + float(sys.argv[3])
while time.monotonic() < end:
    ids = [x["NodeID"] for x in ray.nodes() if x["Alive"]]
    if len(ids) >= int(sys.argv[2]):
        try:
            ran = ray.get(
                [where.options(scheduling_strategy=On(i, soft=False)).remote() for i in ids],
                timeout=max(1.0, min(120.0, end - time.monotonic())),
            )
        except Exception as exc:
            print("not yet:", repr(exc)[:200], file=sys.stderr)
        else:
            if ran == ids:
                print("ready")
                break
    time.sleep(1)
"""


def _wait_nodes(address: str, env: dict[str, str], n: int) -> None:
    # Generous: on a loaded 2-core machine a node may take minutes to register.
    deadline = time.monotonic() + 420
    while (left := deadline - time.monotonic()) > 0:
        try:
            r = subprocess.run(
                [sys.executable, "-c", _PROBE, address, str(n), str(left)],
                env=env, capture_output=True, text=True, timeout=left + 30, check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            break
        if r.returncode == 0 and "ready" in r.stdout:
            return
        time.sleep(1)
    pytest.fail(f"the Ray cluster at {address} did not reach {n} nodes")


def _wait_and_kill(
    p: subprocess.Popen[str], path: Path, stored: int, pids: Callable[[], list[int]]
) -> list[int]:
    """SIGKILL ``pids()`` once ``path`` holds ``stored`` lines (while ``p`` runs)."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and p.poll() is None:
        # A process that has not started yet (a worker actor on a loaded machine) is
        # waited for, not taken as absent.
        if path.is_file() and path.read_bytes().count(b"\n") >= stored:
            found = pids()
            for pid in found:
                os.kill(pid, signal.SIGKILL)
            if found:
                return found
        time.sleep(0.1)
    return []


def _run_ray(
    spec: Path, out: Path, address: str, env: dict[str, str], *more: str
) -> subprocess.Popen[str]:
    return _jbgrade(
        "campaign", "run", str(spec), "--out", str(out), "--executor", "ray",
        "--address", address, "--quiet", *more, env=env,
    )  # fmt: skip


def test_two_node_cluster_kill_a_worker_then_the_driver(
    tmp_path: Path,
    served: tuple[str, dict[str, str]],  # noqa: F811
    cluster: tuple[str, dict[str, str], list[subprocess.Popen[bytes]]],
) -> None:
    url, served_env = served
    address, ray_env, procs = cluster
    env = {**ray_env, "JBGRADE_REF_URL": served_env["JBGRADE_REF_URL"]}
    spec = _limited_spec(tmp_path, requests_per_s=RATE, concurrency=CONCURRENCY)
    _get(url.rsplit("/v1", 1)[0] + "/stats/reset", "POST")
    out = tmp_path / "ray"
    p = _run_ray(spec, out, address, env)
    # Kill the worker on the second node once a few attempts are stored, then the
    # driver itself a little later; resume.
    path = out / "attempts.jsonl"
    seen: list[list[tuple[int, int, str]]] = []

    def a_worker() -> list[int]:
        """The worker on the second node, else one on the head (a worker process
        either way); the placement across both nodes is checked from runs.jsonl."""
        seen[:] = [_ray_processes()]  # the last look, for the failure report
        found = _session_pids(procs[1].pid, "ray::Worker")
        return found or _session_pids(procs[0].pid, "ray::Worker")[:1]

    killed = _wait_and_kill(p, path, 30, a_worker)
    if not killed:
        p.kill()
        _, err = p.communicate(timeout=60)
        raise AssertionError(
            f"no worker process found (rc={p.returncode}); sessions: head "
            f"{procs[0].pid}, node {procs[1].pid}; ray processes at the last look: {seen}; "
            f"driver stderr: {err[-2000:]}"
        )
    _wait_and_kill(p, path, 70, lambda: [p.pid])
    p.communicate(timeout=60)
    assert p.returncode == -signal.SIGKILL, "the campaign ended before its driver was killed"
    after_kills = _get(url.rsplit("/v1", 1)[0] + "/stats")["repeated_target"]
    assert after_kills <= CONCURRENCY  # the dead worker's attempts, run again
    stored_at_kill = len({a.key for a in iter_attempt_records(out)})
    p = _run_ray(spec, out, address, env, "--resume")
    _stdout, stderr = p.communicate(timeout=300)
    assert p.returncode == 0, stderr
    planned = load_manifest(out).planned
    assert stored_at_kill < planned
    keys = Counter(a.key for a in iter_attempt_records(out))
    assert len(keys) == planned  # nothing lost
    assert max(keys.values()) == 1  # nothing written twice
    # The resumed run spread its attempts over both nodes (runs.jsonl records where
    # each worker process ran how many).
    last = json.loads((out / "runs.jsonl").read_text().splitlines()[-1])
    nodes = {w["node"] for w in last["workers"] if w["attempts"] > 0}
    assert len(nodes) == 2, f"attempts ran on {len(nodes)} node(s): {last['workers']}"
    stats = _get(url.rsplit("/v1", 1)[0] + "/stats")
    assert stats["repeated_target"] - after_kills <= CONCURRENCY  # the driver's in-flight ones
    assert stats["target_requests"] <= planned + after_kills + CONCURRENCY
    check_rate(arrivals(url), RATE)
    # The same results as the local executor.
    local = tmp_path / "local"
    r = _jbgrade("campaign", "run", str(spec), "--out", str(local), "--quiet", env=env)
    _o, err = r.communicate(timeout=300)
    assert r.returncode == 0, err
    assert _facts(out) == _facts(local)
    # Record for record, the same attempts (but for the clock), and the same manifest.
    assert _records(out) == _records(local)
    m_ray, m_local = load_manifest(out), load_manifest(local)
    assert m_ray.model_dump(exclude={"created_at"}) == m_local.model_dump(exclude={"created_at"})


def _records(d: Path) -> dict[str, dict[str, object]]:
    clock = {"latency_s", "started_at", "finished_at"}
    return {a.key: a.model_dump(mode="json", exclude=clock) for a in iter_attempt_records(d)}


def test_a_429_pauses_every_worker_of_the_cluster(
    tmp_path: Path,
    served: tuple[str, dict[str, str]],  # noqa: F811
    cluster: tuple[str, dict[str, str], list[subprocess.Popen[bytes]]],
) -> None:
    url, served_env = served
    address, ray_env, _procs = cluster
    env = {**ray_env, "JBGRADE_REF_URL": served_env["JBGRADE_REF_URL"]}
    # 64 attempts in flight over both nodes against 10 requests/s: without a pause
    # shared by the workers they would keep sending through the 6 s window.
    spec = _limited_spec(tmp_path, requests_per_s=RATE, concurrency=64)
    _get(url.rsplit("/v1", 1)[0] + "/stats/reset", "POST")
    overload(url, after=30, seconds=6.0)
    out = tmp_path / "ray"
    p = _run_ray(spec, out, address, env)
    _stdout, stderr = p.communicate(timeout=300)
    assert p.returncode == 0, stderr
    attempts = list(iter_attempt_records(out))
    keys = Counter(a.key for a in attempts)
    assert len(keys) == load_manifest(out).planned  # nothing lost
    assert max(keys.values()) == 1
    assert all(a.status != "error" for a in attempts)
    refused = throttled(url)
    times = arrivals(url)
    check_pause(times, refused, 6.0)
    assert sum(a.retries for a in attempts) == len(refused)  # each 429 retried once
    check_rate(times, RATE)
