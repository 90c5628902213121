"""The read methods both backends share, written once against a dialect and one query primitive.

Each module holds one area's mixin (``TaskQueries``, ``RoomQueries``...): it implements that area's
listing and reading methods of the contract by building SQL with the dialect's ``Params``
(``storage.filters``) and running it through ``Reader._fetch``; rows map through the dialect's ``Rows``
(``storage.rows``). A backend's core (``SQLiteCore``, ``PostgresCore``) subclasses ``Reader`` and gives
the primitive and the dialect; its area mixins (``SQLiteTasks(TaskQueries, SQLiteCore)``) keep only what
differs: writes with their transactions, vector and full-text SQL.
"""
