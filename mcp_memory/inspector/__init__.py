"""A read-only web inspector for operators: server-rendered pages (Jinja2) over the service layer.

``inspector_routes(access)`` returns Starlette routes under ``/inspect``; the HTTP server mounts them beside
``/mcp`` (``mcp_memory.server.serve_http``) and ``mcp-memory inspect`` serves them alone for a local data
dir. Every page reads through the service with the operator's principal, so an operator sees exactly what
its policy lets it read, like any agent; nothing on these pages writes.
"""

from mcp_memory.inspector.access import OPERATOR_GROUP, InspectorAccess, local_operator
from mcp_memory.inspector.app import inspector_routes

__all__ = ["OPERATOR_GROUP", "InspectorAccess", "inspector_routes", "local_operator"]
