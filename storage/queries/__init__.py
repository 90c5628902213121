"""The contract methods both backends share, written once against a dialect and a few primitives.

Each module holds one area's mixin (``TaskQueries``, ``RoomQueries``, ``FactQueries``...): it implements
that area's reads (and the parts of its writes that are rules, not SQL of one backend) by building SQL
with the dialect's ``Params`` (``storage.filters``) and running it through ``Reader._fetch`` (one
statement), ``Reader._read`` (a read plan of several statements in one snapshot, ``storage.queries.plan``)
or ``Reader._write`` (a plan in one write transaction); rows map through the dialect's ``Rows``
(``storage.rows``). A backend's core (``SQLiteCore``, ``PostgresCore``) subclasses ``Reader`` and gives the
primitives and the dialect; its area mixins (``SQLiteTasks(TaskQueries, SQLiteCore)``) keep only what
differs: writes with their transactions (some as hooks the shared mixin calls: ``_write_fact``,
``_change_state``, ``_hand_off``, ``_prune``), full-text and vector candidate SQL (``_search``).
"""
