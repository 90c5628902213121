"""Guard tests: imports only point down, and only the CLI and config read the environment.

Rules (STYLE.md, "Layout"):

- ``storage`` never imports ``mcp`` or ``mcp_memory`` (it is usable alone as a library).
- MCP adapters (``mcp_memory/tools``, ``mcp_memory/resources``) never import a backend
  (``storage.sqlite``, ``storage.postgres``) or a SQL driver; they go through the service.
- Nothing but ``mcp_memory/cli.py`` and ``mcp_memory/config.py`` reads the environment.

The checks read the source with ``ast`` (nothing is imported) and cover whatever files exist.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SQL_DRIVERS = (
    "apsw",
    "sqlite3",
    "sqlite_vec",
    "asyncpg",
    "psycopg",
    "psycopg2",
    "aiosqlite",
    "pgvector",
    "sqlalchemy",
)
BACKENDS = ("storage.sqlite", "storage.postgres")
ENV_READERS = {"mcp_memory/cli.py", "mcp_memory/config.py"}


@dataclass(frozen=True)
class Import:
    module: str
    line: int


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(source: str, module: str, *, is_package: bool = False) -> Iterator[Import]:
    """Every module a source file imports: ``import x``, ``from x import y`` (also ``x.y``), relative
    imports resolved against ``module``, and string literals given to ``importlib.import_module`` or
    ``__import__``."""
    tree = ast.parse(source)
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".") if package else []
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join([*base_parts, node.module] if node.module else base_parts)
            else:
                base = node.module or ""
            yield Import(base, node.lineno)
            for alias in node.names:
                yield Import(f"{base}.{alias.name}", node.lineno)
        elif isinstance(node, ast.Call):
            func = node.func
            name = (
                func.attr
                if isinstance(func, ast.Attribute)
                else func.id
                if isinstance(func, ast.Name)
                else ""
            )
            if name in {"import_module", "__import__"} and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    yield Import(first.value, node.lineno)


def reads_environment(source: str) -> Iterator[int]:
    """Lines that read the environment: ``os.environ``, ``os.getenv``, ``os.environb``, or importing them."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in {"environ", "environb", "getenv", "getenvb"}:
            if isinstance(node.value, ast.Name) and node.value.id == "os":
                yield node.lineno
        elif (
            isinstance(node, ast.ImportFrom)
            and node.module == "os"
            and any(a.name in {"environ", "environb", "getenv", "getenvb"} for a in node.names)
        ):
            yield node.lineno


def _within(module: str, roots: tuple[str, ...]) -> bool:
    return any(module == root or module.startswith(root + ".") for root in roots)


def _sources(*relative: str) -> list[Path]:
    found: list[Path] = []
    for rel in relative:
        path = ROOT / rel
        if path.is_dir():
            found.extend(sorted(path.rglob("*.py")))
        elif path.with_suffix(".py").is_file():
            found.append(path.with_suffix(".py"))
    return found


def _violations(paths: list[Path], forbidden: tuple[str, ...]) -> list[str]:
    found = []
    for path in paths:
        module = _module_name(path)
        for imp in imports_of(
            path.read_text(encoding="utf-8"), module, is_package=path.name == "__init__.py"
        ):
            if _within(imp.module, forbidden):
                found.append(f"{path.relative_to(ROOT)}:{imp.line} imports {imp.module}")
    return found


def test_storage_never_imports_mcp_or_the_server() -> None:
    paths = _sources("storage")
    assert paths, "the storage package exists"

    assert _violations(paths, ("mcp", "mcp_memory")) == []


def test_mcp_adapters_never_import_a_backend_or_a_sql_driver() -> None:
    paths = _sources("mcp_memory/tools", "mcp_memory/resources")

    assert _violations(paths, BACKENDS + SQL_DRIVERS) == []


def test_only_cli_and_config_read_the_environment() -> None:
    found = []
    for path in _sources("mcp_memory", "storage"):
        rel = path.relative_to(ROOT).as_posix()
        if rel in ENV_READERS:
            continue
        found.extend(
            f"{rel}:{line} reads the environment" for line in reads_environment(path.read_text("utf-8"))
        )

    assert found == []


def runtime_imports(source: str, module: str, *, is_package: bool = False) -> Iterator[Import]:
    """Imports that run when the module is imported: module level, outside ``if TYPE_CHECKING:``."""
    tree = ast.parse(source)
    body: list[ast.stmt] = []
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            body.extend(node.orelse)
        else:
            body.append(node)
    top = ast.unparse(
        ast.Module(body=[n for n in body if isinstance(n, ast.Import | ast.ImportFrom)], type_ignores=[])
    )
    yield from imports_of(top, module, is_package=is_package)


def import_cycles(roots: tuple[str, ...]) -> list[list[str]]:
    """Cycles in the module-level import graph of the packages ``roots`` (Tarjan's strongly connected
    components of size > 1, or a module importing itself)."""
    modules = {_module_name(p): p for p in _sources(*roots)}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        found = list(runtime_imports(path.read_text("utf-8"), name, is_package=is_package))
        # ``from pkg import submodule`` inside pkg loads the submodule, not a name of pkg's __init__.
        submodule_lines = {
            (imp.line, imp.module.rpartition(".")[0]) for imp in found if imp.module in modules
        }
        graph[name] = {
            imp.module
            for imp in found
            if imp.module in modules
            and imp.module != name
            and not (name.startswith(imp.module + ".") and (imp.line, imp.module) in submodule_lines)
        }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def test_storage_and_server_have_no_import_cycle() -> None:
    assert import_cycles(("storage", "mcp_memory")) == []


def test_imports_under_type_checking_are_not_runtime_imports() -> None:
    found = {imp.module for imp in runtime_imports("if TYPE_CHECKING:\n    import a\nimport b\n", "m")}

    assert found == {"b"}


# --- the checker itself ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "module", "expected"),
    [
        ("import mcp.server", "storage.scope", "mcp.server"),
        ("from mcp_memory import service", "storage.scope", "mcp_memory.service"),
        ("from storage.sqlite.store import SQLiteStore", "mcp_memory.tools.rooms", "storage.sqlite.store"),
        ("from storage import postgres", "mcp_memory.tools.rooms", "storage.postgres"),
        ("from ..storage import sqlite", "mcp_memory.tools.rooms", "mcp_memory.storage.sqlite"),
        ("from .sqlite import x", "storage.scope", "storage.sqlite.x"),
        ("import importlib\nimportlib.import_module('asyncpg')", "mcp_memory.tools.rooms", "asyncpg"),
    ],
)
def test_import_checker_sees_every_import_form(source: str, module: str, expected: str) -> None:
    assert expected in {imp.module for imp in imports_of(source, module)}


def test_relative_imports_in_a_package_init_resolve_inside_it() -> None:
    found = {imp.module for imp in imports_of("from .sqlite import x", "storage", is_package=True)}

    assert "storage.sqlite.x" in found


@pytest.mark.parametrize(
    "source",
    [
        "import os\nos.environ['X']",
        "import os\nos.getenv('X')",
        "from os import environ",
        "from os import getenv",
    ],
)
def test_environment_checker_sees_every_read(source: str) -> None:
    assert list(reads_environment(source))


def test_prefix_matching_does_not_confuse_similar_names() -> None:
    assert not _within("mcp_memory_extra", ("mcp_memory",))
    assert not _within("mcpx", ("mcp",))
    assert _within("mcp.server.lowlevel", ("mcp",))


#: STYLE.md: "a file passing ~400 lines holds two ideas".
MAX_MODULE_LINES = 400


def test_no_module_of_the_server_or_storage_passes_400_lines() -> None:
    long = {
        path.relative_to(ROOT).as_posix(): n
        for path in _sources("mcp_memory", "storage")
        if (n := len(path.read_text("utf-8").splitlines())) > MAX_MODULE_LINES
    }

    assert long == {}
