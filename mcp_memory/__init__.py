"""mcp-memory: shared, persistent memory for teams of LLM agents, served over MCP.

In-process use goes through ``open_service``; over MCP, ``build_server(settings)`` gives the server.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from mcp_memory.config import Settings, load_settings
    from mcp_memory.services import Service, open_service

__all__ = ["Service", "Settings", "__version__", "load_settings", "open_service"]

#: Imported on first use (PEP 562), so ``mcp-memory --help`` and ``init`` do not pay for the services,
#: the embedders and the MCP SDK (issue 15: a command imports only what it needs).
_LAZY = {
    "Settings": "mcp_memory.config",
    "load_settings": "mcp_memory.config",
    "Service": "mcp_memory.services",
    "open_service": "mcp_memory.services",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'mcp_memory' has no attribute {name!r}")
