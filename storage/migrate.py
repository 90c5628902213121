"""Discovery of versioned SQL migrations shared by the backends.

Each backend keeps ``migrations/NNNN_short_name.sql`` files beside its store. Numbers are unique and
ascending; a gap is allowed while parallel work lands (a later-numbered migration may land before an
earlier one), so a backend applies every shipped migration that is not recorded yet, whatever the
newest recorded number. A migration is applied in
one transaction together with the row that records it in ``schema_migrations`` (the pattern of
sqlite-utils' ``Migrations.apply``), so a failed migration leaves no trace. Migrations only add (new
tables, columns, indexes): a running server of the previous version keeps working. A database whose
newest recorded migration is unknown to this code is refused (``SchemaVersionError``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

from storage.errors import SchemaVersionError

__all__ = ["Migration", "check_not_newer", "load_migrations"]

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    """One migration: ``version`` (1, 2, ...), ``name`` and its SQL text."""

    version: int
    name: str
    sql: str


def load_migrations(package: str) -> list[Migration]:
    """Return the migrations shipped in ``{package}.migrations``, ordered by version.

    Raises:
        SchemaVersionError: two files share a version (a packaging error).
    """
    found: list[Migration] = []
    for entry in resources.files(package).joinpath("migrations").iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), match.group(2), entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions) or any(v < 1 for v in versions):
        raise SchemaVersionError(f"migrations of {package} are not numbered uniquely from 1: {versions}")
    return found


def check_not_newer(applied_version: int, migrations: list[Migration]) -> None:
    """Refuse a database migrated by newer code.

    Raises:
        SchemaVersionError: ``applied_version`` is above the newest migration this code knows.
    """
    known = migrations[-1].version if migrations else 0
    if applied_version > known:
        raise SchemaVersionError(
            f"the database is at schema version {applied_version}, newer than this mcp-memory "
            f"(knows up to {known}): upgrade mcp-memory"
        )
