"""Callers resolved from their credentials, remembered on one SQLite connection until the
database changes.

Resolving a caller (key or token, user, groups, grants) is the largest lookup of a short
request. A SQLite connection can tell at the cost of a function call whether anything was
committed to its database by any other connection, of this worker or another process, since
it last asked (``PRAGMA data_version``). A caller resolved on such a connection therefore
stays exactly right while that number holds and no expiry date has passed: a revoked key, a
removed grant or a deactivated user is a commit, and the next request resolves afresh.

The number does not move for the connection's own commits, so only connections that never
write may carry this memory: the event loop's lookup connection (``Store.loop_lookups``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

# Execution option under which a read-only connection carries its KnownCallers.
OPTION = "officina_known_callers"


class KnownCallers:
    """Per connection: credentials digest -> (caller, unix second it stops being valid)."""

    # Distinct credentials remembered at most; past that the memory starts over.
    MAX = 1024

    def __init__(self) -> None:
        self._entries: dict[Any, tuple[Any, float]] = {}
        self._version: int | None = None

    def version(self, conn: Connection) -> int | None:
        """The connection's change counter now, after forgetting everything it outdates;
        None inside a transaction, whose snapshot may be older than the counter."""
        if conn.in_transaction():
            return None
        cursor = conn.connection.dbapi_connection.execute(  # type: ignore[union-attr]
            "PRAGMA data_version"
        )
        current = int(cursor.fetchone()[0])
        if current != self._version:
            self._entries.clear()
            self._version = current
        return current

    def get(self, version: int | None, key: Any, now: int) -> Any:
        if version is None or version != self._version:
            return None
        found = self._entries.get(key)
        if found is None or now >= found[1]:
            return None
        return found[0]

    def put(self, version: int | None, key: Any, caller: Any, valid_until: float) -> None:
        """Remember a caller resolved by statements that ran after ``version`` was read."""
        if version is None or version != self._version:
            return
        if len(self._entries) >= self.MAX:
            self._entries.clear()
        self._entries[key] = (caller, valid_until)


def of(conn: Connection) -> KnownCallers | None:
    found = conn.get_execution_options().get(OPTION)
    return found if isinstance(found, KnownCallers) else None
