"""``mcp-memory inspect``: the web inspector on a local data dir, without a server or a token."""

from __future__ import annotations

from typing import Annotated

import typer

from mcp_memory.commands._common import ConfigOption, err, settings_or_exit

__all__ = ["inspect"]


def inspect(
    config: ConfigOption = None,
    host: Annotated[
        str, typer.Option(help="Bind address (keep it local: no token is asked for).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port.")] = 8766,
    agent: Annotated[
        str | None,
        typer.Option(
            "--agent", "-a", help="See what this agent's policy allows (default: everything, read-only)."
        ),
    ] = None,
) -> None:
    """Browse the store read-only in a web browser: rooms, memories, facts, tasks, escalations, graph, audit."""
    import anyio
    import uvicorn
    from starlette.applications import Starlette

    from mcp_memory.auth import Principal
    from mcp_memory.config import redacted_url
    from mcp_memory.inspector import OPERATOR_GROUP, InspectorAccess, inspector_routes, local_operator
    from mcp_memory.services import open_service
    from storage import StorageError

    settings = settings_or_exit(config)
    principal = (
        local_operator() if agent is None else Principal(agent=agent, policy=settings.policy_for(agent))
    )
    if not principal.may_use(OPERATOR_GROUP):
        err.print(
            f"[red]error:[/red] agent {agent!r} is not an operator (its policy needs the "
            f"{OPERATOR_GROUP!r} tool group); leave out --agent to see everything"
        )
        raise typer.Exit(2)

    async def unused(_: str) -> Principal | None:
        return None

    async def run() -> None:
        async with open_service(settings) as service:
            access = InspectorAccess(service=lambda: service, authenticate=unused, local=principal)
            app = Starlette(routes=inspector_routes(access))
            server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
            err.print(
                f"mcp-memory inspector on http://{host}:{port}/inspect/ ({redacted_url(settings.storage_url)}, "
                f"as {principal.agent}); Ctrl-C to stop",
                markup=False,
                highlight=False,
            )
            await server.serve()

    try:
        anyio.run(run)
    except StorageError as exc:
        err.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(1) from None
