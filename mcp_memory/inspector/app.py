"""The inspector's routes: authentication, the operator check, error pages and template rendering.

Pages live in ``pages.py`` (one function per page: read through the service, return a template and its
values); templates in ``templates/`` (package data, autoescaped). Status codes: 401 without a known
token (the login form), 403 for an agent without the operator group, 404/400 for a missing item or a
bad parameter, 503 while the server starts or drains.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from mcp_memory import __version__
from mcp_memory.auth import Principal
from mcp_memory.inspector import pages
from mcp_memory.inspector.access import COOKIE, OPERATOR_GROUP, InspectorAccess
from mcp_memory.inspector.pages import Page
from mcp_memory.services import Service
from storage import InvalidInputError, NotFoundError, PermissionDeniedError, StorageError

__all__ = ["PREFIX", "authorize", "inspector_routes", "render"]

#: Where the inspector is mounted on the HTTP server.
PREFIX = "/inspect"

Handler = Callable[[Request, Service, Principal], Awaitable[Page]]

_STATUS: dict[type[StorageError], int] = {
    NotFoundError: 404,
    PermissionDeniedError: 403,
    InvalidInputError: 400,
}


def _when(value: datetime | None) -> str:
    """A time as ``2026-12-01 10:00:03 UTC`` (empty for ``None``)."""
    return "" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)


_env = Environment(
    loader=PackageLoader("mcp_memory.inspector", "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters["when"] = _when
_env.filters["json"] = _json


def render(template: str, *, status_code: int = 200, **values: Any) -> HTMLResponse:
    """Render ``templates/<template>`` with ``values`` (plus ``base``, ``version`` and ``me`` defaults)."""
    values.setdefault("me", None)
    html = _env.get_template(template).render(base=PREFIX, version=__version__, **values)
    return HTMLResponse(html, status_code=status_code)


def _error(status: int, title: str, message: str, me: Principal | None = None) -> HTMLResponse:
    return render("error.html", status_code=status, title=title, message=message, me=me)


async def authorize(access: InspectorAccess, request: Request) -> Principal | Response:
    """The operator behind ``request``, or the response that refuses it (401 login form, 403)."""
    principal = await access.principal(request)
    if principal is None:
        return render("login.html", status_code=401, failed=False, next=request.url.path)
    if not principal.may_use(OPERATOR_GROUP):
        return _error(
            403,
            "Forbidden",
            f"agent {principal.agent!r} is not an operator: its policy needs the {OPERATOR_GROUP!r} "
            "tool group to open the inspector",
            principal,
        )
    return principal


def _page(access: InspectorAccess, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        principal = await authorize(access, request)
        if isinstance(principal, Response):
            return principal
        service = access.service()
        if service is None:
            return _error(
                503, "Starting", "the store is not open yet (or the server is stopping): retry soon"
            )
        try:
            page = await handler(request, service, principal)
        except StorageError as exc:
            status = next((s for t, s in _STATUS.items() if isinstance(exc, t)), 500)
            return _error(status, type(exc).__name__.removesuffix("Error"), exc.message, principal)
        except ValueError as exc:  # a query parameter of the wrong type
            return _error(400, "Bad request", str(exc), principal)
        return render(page.template, me=principal, **page.values)

    return endpoint


def inspector_routes(access: InspectorAccess) -> list[BaseRoute]:
    """The inspector under ``/inspect``: one mount holding every page plus login and logout."""

    async def login(request: Request) -> Response:
        if request.method == "GET":
            return render("login.html", status_code=200, failed=False, next=f"{PREFIX}/")
        form = await request.form()
        token = str(form.get("token", "")).strip()
        target = str(form.get("next", "")) or f"{PREFIX}/"
        if not target.startswith(f"{PREFIX}/"):
            target = f"{PREFIX}/"  # never redirect off the inspector (open redirect)
        if not token or await access.authenticate(token) is None:
            return render("login.html", status_code=401, failed=True, next=target)
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(COOKIE, token, httponly=True, samesite="strict", path="/")
        return response

    async def logout(_: Request) -> Response:
        response = RedirectResponse(f"{PREFIX}/login", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    routes = [
        Route(path, _page(access, handler), methods=["GET"], name=name) for path, handler, name in pages.PAGES
    ]
    routes += [
        Route("/login", login, methods=["GET", "POST"], name="login"),
        Route("/logout", logout, methods=["GET", "POST"], name="logout"),
    ]
    return [Mount(PREFIX, routes=routes)]
