"""Public packages expose a complete, sorted ``__all__`` whose names all exist."""

from __future__ import annotations

import importlib

import pytest


@pytest.mark.parametrize(
    "module_name",
    [
        "storage",
        "storage.models",
        "storage.contracts",
        "storage.errors",
        "storage.paging",
        "storage.scope",
        "mcp_memory",
    ],
)
def test_all_is_sorted_and_resolves(module_name: str) -> None:
    module = importlib.import_module(module_name)
    exported = list(module.__all__)
    assert exported == sorted(exported, key=str)
    missing = [name for name in exported if not hasattr(module, name)]
    assert missing == []


def test_storage_errors_form_one_tree() -> None:
    from storage import errors

    for name in errors.__all__:
        assert issubclass(getattr(errors, name), errors.StorageError)
