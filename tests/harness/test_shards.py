"""Shards of one campaign share its limits (limits.sqlite) and start together on one --out.

Real processes over real HTTP: the reference target counts arrivals itself, so the
request rate checked here is the one the target saw, not jbgrade's own count.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

from jbgrade.harness import load_manifest, read_attempts

from .conftest import EXAMPLES
from .test_acceptance import _jbgrade, served  # noqa: F401 - the fixture

pytestmark = pytest.mark.slow

RATE = 8.0
MODEL = "reference-model"


def _limited_spec(tmp: Path, **limits: object) -> Path:
    spec = yaml.safe_load((EXAMPLES / "reference-http.yaml").read_text())
    spec["samples"] = 1
    spec["limits"] = {**spec["limits"], **limits}
    path = tmp / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def _stats(url: str, what: str) -> dict[str, list[Any]]:
    base = url.rsplit("/v1", 1)[0]
    with urllib.request.urlopen(f"{base}/stats/{what}", timeout=10) as r:
        data: dict[str, list[Any]] = json.loads(r.read())
    return data


def arrivals(url: str) -> list[float]:
    """Arrival times of target requests, by the target's clock (429s included)."""
    return sorted(_stats(url, "arrivals").get(MODEL, []))


def throttled(url: str) -> list[float]:
    """Arrival times of the target requests the target answered 429."""
    return sorted(_stats(url, "throttled").get(MODEL, []))


def usage(url: str) -> list[tuple[float, int]]:
    """(arrival time, total tokens) of each answered target request."""
    return sorted((float(t), int(n)) for t, n in _stats(url, "usage").get(MODEL, []))


def overload(url: str, after: int, seconds: float) -> None:
    """Make the target answer 429 + Retry-After for ``seconds`` after ``after`` requests."""
    base = url.rsplit("/v1", 1)[0]
    body = json.dumps({"after": after, "seconds": seconds}).encode()
    req = urllib.request.Request(f"{base}/control/overload", data=body, method="POST")
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.status == 200


def check_pause(times: list[float], refused: list[float], window: float) -> None:
    """The target's 429 window holds every sender, measured at the target.

    The target answers 429 from its first refusal ``t0`` for ``window`` seconds,
    with Retry-After = the whole seconds left. Requests that reach it in the
    window were sent before the news of the first 429 reached the limits (the
    limiter actor, or limits.sqlite); once it has, nothing is sent until the
    Retry-After has passed. The news is given half the window to arrive (it
    takes milliseconds on loopback): so no request may reach the target in the
    second half. Without a shared pause the others would go on sending at the
    rate limit, about ``rate * window / 2`` requests in that half.
    """
    assert refused, "the target answered no 429"
    t0 = refused[0]
    assert refused[-1] < t0 + window
    late = [t for t in times if t0 + window / 2 <= t < t0 + window]
    assert not late, f"{len(late)} requests reached the target during the pause"
    assert any(t >= t0 + window for t in times)  # the retries, after the window


def check_tokens_per_min(
    spent: list[tuple[float, int]], tokens_per_min: float, in_flight: int
) -> None:
    """The tokens the target served stay within the tokens/min bucket, measured at the target.

    The bucket holds one minute's tokens and refills at ``tokens_per_min / 60``
    per second; a request goes only while it is not empty, and its tokens are
    known only from its reply, so up to ``in_flight`` requests (each at most the
    largest request the target served) may overdraw it. So the tokens of the
    requests that reached the target by time t are at most
    ``tpm + (t - t_first + 1) * tpm / 60 + in_flight * largest``
    (the extra second of refill covers the trip from the limits to the target).
    """
    assert len(spent) > 10
    largest = max(n for _t, n in spent)
    t_first = spent[0][0]
    total = 0
    for t, n in spent:
        total += n
        allowed = tokens_per_min * (1 + (t - t_first + 1) / 60) + in_flight * largest
        assert total <= allowed, f"{total} tokens by {t - t_first:.1f} s (allowed {allowed:.0f})"


def check_rate(times: list[float], limit: float) -> float:
    """The whole run's rate at the target within 10% of the limit, and no 5 s window
    more than 10% above it (the slot of a request is kept by one clock; the trip from
    the limiter to the sender may bunch a few requests within a second)."""
    assert len(times) > 10
    j = 0
    for i, t in enumerate(times):
        while times[j] < t - 5.0:
            j += 1
        assert i - j + 1 <= 5 * limit * 1.1 + 1, f"{i - j + 1} requests in 5 s at {t}"
    rate = (len(times) - 1) / (times[-1] - times[0])
    assert rate <= limit * 1.1, rate
    return rate


def run_shards(spec: Path, out: Path, env: dict[str, str], n: int = 2) -> None:
    """``n`` shard processes started together on one fresh ``--out``; all complete."""
    args = ("campaign", "run", str(spec), "--out", str(out), "--quiet", "--shard")
    procs = [_jbgrade(*args, f"{i}/{n}", env=env) for i in range(n)]
    results: list[tuple[int, str]] = []
    try:
        for p in procs:
            _stdout, stderr = p.communicate(timeout=300)
            results.append((p.returncode, stderr))
    finally:
        # Reap every shard (and close its pipes) before asserting on any, so a
        # failure here cannot leak pipes into the next test.
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.communicate()
    for rc, stderr in results:
        assert rc == 0, stderr


def test_two_shards_share_the_rate_and_start_together(
    tmp_path: Path,
    served: tuple[str, dict[str, str]],  # noqa: F811
) -> None:
    url, env = served
    spec = _limited_spec(tmp_path, requests_per_s=RATE, concurrency=8)
    out = tmp_path / "c"
    run_shards(spec, out, env)
    m = load_manifest(out)
    attempts = read_attempts(out)
    assert len(attempts) == m.planned
    assert all(a.status != "error" for a in attempts)
    rate = check_rate(arrivals(url), RATE)
    # The limit was the bottleneck: two independent shards would have sent ~2 x RATE.
    assert rate > RATE * 0.7
    assert (out / "limits.sqlite").is_file()


# The example campaign with samples: 1 sends 144 target requests of 28-101 tokens,
# 7,771 in all: a bucket of 6,000 tokens/min holds a run for ~18 s after the first
# burst, while two shards each with its own bucket would send everything at once.
TOKENS_PER_MIN = 6000.0


def test_two_shards_share_tokens_per_min(
    tmp_path: Path,
    served: tuple[str, dict[str, str]],  # noqa: F811
) -> None:
    url, env = served
    spec = _limited_spec(tmp_path, tokens_per_min=TOKENS_PER_MIN, concurrency=4)
    out = tmp_path / "c"
    run_shards(spec, out, env)
    attempts = read_attempts(out)
    assert len(attempts) == load_manifest(out).planned
    spent = usage(url)
    assert sum(n for _t, n in spent) > TOKENS_PER_MIN * 1.2  # more than the first burst
    check_tokens_per_min(spent, TOKENS_PER_MIN, in_flight=2 * 2)


def test_two_shards_pause_together_on_a_429(
    tmp_path: Path,
    served: tuple[str, dict[str, str]],  # noqa: F811
) -> None:
    url, env = served
    # 64 attempts in flight against 10 requests/s: without a shared pause the
    # shards would keep sending through the 6 s window.
    spec = _limited_spec(tmp_path, requests_per_s=10.0, concurrency=64)
    overload(url, after=30, seconds=6.0)
    out = tmp_path / "c"
    run_shards(spec, out, env)
    attempts = read_attempts(out)
    assert len(attempts) == load_manifest(out).planned  # nothing lost
    assert all(a.status != "error" for a in attempts)
    refused = throttled(url)
    check_pause(arrivals(url), refused, 6.0)
    assert sum(a.retries for a in attempts) == len(refused)  # each 429 retried once
