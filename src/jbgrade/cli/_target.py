"""``jbgrade target serve | types``: the reference target over HTTP, registered types."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from jbgrade.cli._common import out_console, print_json

__all__ = ["register"]


def serve(
    port: Annotated[
        int, typer.Option("--port", help="TCP port (0: pick a free one).", min=0, max=65535)
    ] = 8765,
    host: Annotated[str, typer.Option("--host", help="Address to bind.")] = "127.0.0.1",
    config: Annotated[
        Path | None,
        typer.Option("--config", help="Reference config YAML (one model or {models: [...]})."),
    ] = None,
    latency_ms: Annotated[
        float, typer.Option("--latency-ms", help="Added latency per chat completion.")
    ] = 0.0,
) -> None:
    """Serve the reference target as an OpenAI-compatible endpoint (/v1/chat/completions)."""
    import asyncio

    from jbgrade.harness import ReferenceServer, load_reference_configs

    configs = load_reference_configs(config)
    server = ReferenceServer(configs, latency_s=latency_ms / 1000.0)

    async def go() -> None:
        http = await server.start(host, port)
        models = ", ".join([*server.models, *sorted(server.judges)])
        # Tests wait for this line; flush so it is seen at once through a pipe.
        print(f"serving {models} on {http.base_url}/v1", flush=True)
        try:
            await http.serve_forever()
        finally:
            await server.close()

    try:
        asyncio.run(go())
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)


def types(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the registered target types."""
    from jbgrade.harness import TARGETS

    if as_json:
        print_json(list(TARGETS.names()))
        return
    for name in TARGETS.names():
        out_console.print(name, markup=False)


def register(app: typer.Typer) -> None:
    sub = typer.Typer(help="Targets: serve the reference target, list types.", no_args_is_help=True)
    sub.command("serve")(serve)
    sub.command("types")(types)
    app.add_typer(sub, name="target")
