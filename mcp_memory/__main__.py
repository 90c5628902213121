"""``python -m mcp_memory`` runs the CLI."""

from mcp_memory.cli import app

app()
