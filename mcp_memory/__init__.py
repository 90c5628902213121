"""mcp-memory: shared, persistent memory for teams of LLM agents, served over MCP.

In-process use goes through ``open_service``; over MCP, ``build_server(settings)`` gives the server.
"""

from __future__ import annotations

__version__ = "0.1.0"

from mcp_memory.config import Settings, load_settings  # noqa: E402
from mcp_memory.services import Service, open_service  # noqa: E402

__all__ = ["Service", "Settings", "__version__", "load_settings", "open_service"]
