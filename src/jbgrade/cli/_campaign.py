"""``jbgrade campaign run | status`` (and ``evidence``, registered from _evidence)."""

from __future__ import annotations

import sys
from collections import Counter
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from jbgrade.cli import _evidence
from jbgrade.cli._common import out_console, print_json, warn_skipped

if TYPE_CHECKING:
    from jbgrade.harness import AttemptStore, CampaignPlan, Reporter, RunSummary, Shard

__all__ = ["register"]


class Executor(StrEnum):
    local = "local"
    ray = "ray"


class LogFormat(StrEnum):
    text = "text"
    json = "json"


def _summary_line(s: RunSummary) -> str:
    return (
        f"{s.campaign}: {s.outcome}; {s.completed} attempts this run "
        f"({s.ok} ok, {s.blocked} blocked, {s.errors} errors, {s.successes} successes), "
        f"{s.already_done} already stored, {s.remaining} remaining of {s.planned}; "
        f"{s.requests} requests, {s.retries} retries, {s.tokens} tokens, {s.wall_s:.1f} s"
    )


def run(  # noqa: PLR0917 - a Typer command takes its options as parameters
    spec: Annotated[Path, typer.Argument(help="Campaign spec (YAML).")],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Campaign directory (default: campaigns/<name>)."),
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue a campaign: skip stored attempts.")
    ] = False,
    retry_errors: Annotated[
        bool, typer.Option("--retry-errors", help="With --resume: re-run errored attempts.")
    ] = False,
    shard: Annotated[
        str, typer.Option("--shard", help="Run shard I of N (I/N) of the attempt grid.")
    ] = "0/1",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    log_format: Annotated[
        LogFormat, typer.Option("--log-format", help="text (progress bar) or json (CI).")
    ] = LogFormat.text,
    fsync: Annotated[
        bool, typer.Option("--fsync", help="fsync each attempt (survives power loss).")
    ] = False,
    max_error_share: Annotated[
        float,
        typer.Option(
            "--max-error-share",
            min=0.0,
            max=1.0,
            help="Largest share of this run's attempts that may end in error; beyond it "
            "(or when the target is unreachable) the run failed: exit 3.",
        ),
    ] = 0.10,
    executor: Annotated[
        Executor,
        typer.Option("--executor", help="local (one asyncio process) or ray (a Ray cluster)."),
    ] = Executor.local,
    address: Annotated[
        str | None,
        typer.Option(
            "--address",
            help="With --executor ray: the cluster (HEAD:PORT, ray://...); absent: a local Ray.",
        ),
    ] = None,
) -> None:
    """Run a campaign: targets x (baseline + attacks) x behaviours x samples, judged.

    Exit 0 when the run completed; 3 when the measurement failed (more than
    --max-error-share of the attempts ended in error, or the target was unreachable
    and the run stopped early); 2 on bad input. Errored attempts count in no rate.
    """
    # Imported here, not at module level: every other command starts faster.
    import asyncio

    from jbgrade.harness import AttemptStore, build_plan, load_spec

    sh = _shard(shard, executor, address)
    cspec = load_spec(spec)
    plan = build_plan(cspec, spec.parent, str(spec))
    manifest = plan.manifest()
    directory = out or Path("campaigns") / cspec.name
    store = AttemptStore.open(directory, manifest, resume=resume, shard=sh, fsync=fsync)
    summary = asyncio.run(
        _execute(
            plan,
            store,
            _reporter(log_format, quiet=quiet),
            executor=executor,
            address=address,
            base_dir=spec.parent,
            shard=sh,
            retry_errors=retry_errors,
            campaign=manifest.campaign,
        )
    )
    warn_skipped(store.skipped, "their attempts were run again (the lines stay in the file)")
    _print_summary(summary, log_format, directory)
    _check_health(summary, max_error_share)


def _print_summary(summary: RunSummary, log_format: LogFormat, directory: Path) -> None:
    """One JSON line (``--log-format json``) or the summary line and where the attempts are."""
    if log_format is LogFormat.json:
        print_json(summary.to_dict(), indent=None)
    else:
        out_console.print(_summary_line(summary), markup=False)
        out_console.print(f"Attempts in {directory}", markup=False)


def _shard(shard: str, executor: Executor, address: str | None) -> Shard:
    """``--shard`` parsed, and checked against ``--executor`` and ``--address``."""
    from jbgrade._errors import InputError
    from jbgrade.harness import Shard

    if address is not None and executor is not Executor.ray:
        raise InputError("--address needs --executor ray", field="--address")
    sh = Shard.parse(shard)
    if executor is Executor.ray and sh.count > 1:
        # Shards share limits through limits.sqlite; a Ray run has its own limiter.
        raise InputError(
            "--shard and --executor ray do not combine: Ray spreads the grid itself",
            field="--shard",
        )
    return sh


def _reporter(log_format: LogFormat, *, quiet: bool) -> Reporter:
    """JSON lines for CI, nothing with --quiet, else the progress bar."""
    from jbgrade.harness import JsonReporter, QuietReporter, RichReporter

    if log_format is LogFormat.json:
        return JsonReporter()
    if quiet:
        return QuietReporter()
    return RichReporter()


async def _execute(
    plan: CampaignPlan,
    store: AttemptStore,
    reporter: Reporter,
    *,
    executor: Executor,
    address: str | None,
    base_dir: Path,
    shard: Shard,
    retry_errors: bool,
    campaign: str,
) -> RunSummary:
    """Run the plan on the chosen executor; the plan's clients and the store close after."""
    from jbgrade.harness import run_campaign

    try:
        if executor is Executor.ray:
            from jbgrade.harness import run_campaign_ray

            return await run_campaign_ray(
                plan,
                store,
                address=address,
                base_dir=base_dir,
                reporter=reporter,
                shard=shard,
                retry_errors=retry_errors,
                campaign=campaign,
            )
        return await run_campaign(
            plan,
            store,
            reporter=reporter,
            shard=shard,
            retry_errors=retry_errors,
            campaign=campaign,
        )
    finally:
        await plan.aclose()
        store.close()


def _check_health(summary: RunSummary, max_error_share: float) -> None:
    """Exit 3 with one line when the measurement failed."""
    from jbgrade.harness._health import EXIT_MEASUREMENT_FAILED, error_share_exceeded

    reasons = ", ".join(f"{k} ({v})" for k, v in sorted(summary.error_reasons.items()))
    if summary.outcome == "unreachable":
        why = f"target unreachable, stopped after {summary.completed} attempts: {reasons}"
    elif error_share_exceeded(summary.errors, summary.completed, max_error_share):
        why = (
            f"{summary.errors} of {summary.completed} attempts ended in error "
            f"(more than {max_error_share:.0%}): {reasons}"
        )
    else:
        return
    print(f"jbgrade: measurement failed: {why}", file=sys.stderr)
    raise typer.Exit(EXIT_MEASUREMENT_FAILED)


def status(
    directory: Annotated[Path, typer.Argument(help="Campaign directory.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show a campaign's progress: stored attempts by status, target and arm; errors."""
    from jbgrade.evidence import SkippedLine
    from jbgrade.harness import load_manifest, read_attempts, read_runs

    m = load_manifest(directory)
    skipped: list[SkippedLine] = []
    attempts = read_attempts(directory, skipped)
    warn_skipped(
        skipped, "they count in no figure (campaign run --resume repeats an attempt they held)"
    )
    by_status = Counter(a.status for a in attempts)
    cells: dict[tuple[str, str, str], Counter[str]] = {}
    reasons: Counter[str] = Counter()
    for a in attempts:
        c = cells.setdefault((a.target, a.attack, a.arm), Counter())
        c["n"] += 1
        c[a.status] += 1
        c["success"] += bool(a.success)
        if a.status == "error":
            reasons[(a.error or "?")[:80]] += 1
    runs = read_runs(directory)
    data: dict[str, Any] = {
        "campaign": m.campaign,
        "spec_hash": m.spec_hash,
        "created_at": m.created_at.isoformat(),
        "planned": m.planned,
        "stored": len(attempts),
        "remaining": max(0, m.planned - len(attempts)),
        "by_status": dict(by_status),
        "cells": [
            {"target": t, "attack": a, "arm": arm, **dict(c)}
            for (t, a, arm), c in sorted(cells.items())
        ],
        "errors": dict(reasons.most_common(10)),
        "last_run": runs[-1] if runs else None,
        "runs": len(runs),
        "skipped_lines": [{"path": s.path, "line": s.line, "reason": s.reason} for s in skipped],
    }
    if as_json:
        print_json(data)
        return
    out_console.print(
        f"{m.campaign} (spec {m.spec_hash[:12]}, created {data['created_at']})", markup=False
    )
    out_console.print(
        f"{len(attempts)} of {m.planned} attempts stored, {data['remaining']} remaining; "
        + ", ".join(f"{k} {v}" for k, v in sorted(by_status.items())),
        markup=False,
    )
    t = Table(title="Attempts by target and arm", title_justify="left")
    for col in ("target", "attack", "arm", "stored", "ok", "blocked", "error", "success"):
        t.add_column(col, justify="left" if col in ("target", "attack", "arm") else "right")
    for (tgt, att, arm), c in sorted(cells.items()):
        t.add_row(tgt, att, arm, *(str(c[k]) for k in ("n", "ok", "blocked", "error", "success")))
    out_console.print(t)
    for reason, n in reasons.most_common(5):
        out_console.print(f"error x{n}: {reason}", markup=False)
    if runs:
        last = runs[-1]
        out_console.print(
            f"last run: {last.get('outcome')} at {last.get('finished_at')} "
            f"({last.get('completed')} attempts, {last.get('requests')} requests)",
            markup=False,
        )


def register(app: typer.Typer) -> None:
    sub = typer.Typer(help="Run and inspect measurement campaigns.", no_args_is_help=True)
    sub.command("run")(run)
    sub.command("status")(status)
    # The evidence command lives with the evidence layer's CLI module.
    _evidence.register(sub)
    app.add_typer(sub, name="campaign")
