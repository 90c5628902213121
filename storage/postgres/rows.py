"""PostgreSQL's dialect of stored values: ``ROWS``, the neutral mappers of ``storage.rows``.

asyncpg returns ``timestamptz`` as tz-aware ``datetime`` and ``text[]`` as lists; the pool's codec
(``storage.postgres.pool``) decodes ``jsonb``. So both converters are the identity.
"""

from __future__ import annotations

from typing import Any

from storage.models import Sensitivity
from storage.rows import Rows

__all__ = ["LEVEL_TO_SENSITIVITY", "ROWS", "event_from_row", "memory_from_row"]


def _as_stored(value: Any) -> Any:
    return value


#: The row -> record mappers reading asyncpg's values.
ROWS = Rows(load_time=_as_stored, load_json=_as_stored)

# Names kept for the callers in other areas until they use ``ROWS`` (issue 16 lands in parallel parts).
memory_from_row = ROWS.memory
event_from_row = ROWS.event
#: Stored sensitivity level -> enum (``Sensitivity.level`` is the inverse).
LEVEL_TO_SENSITIVITY = {s.level: s for s in Sensitivity}
