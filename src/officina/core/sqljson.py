"""JSON aggregation that reads the same on SQLite and PostgreSQL.

Lists that belong to a row (a node's labels, a job's parameters) are folded into one JSON column by
a correlated sub-select, so a list of nodes stays one statement. Each element is a JSON array
that carries its own sort key; Python sorts after decoding, which avoids relying on the
order an aggregate happens to see rows in (SQLite before 3.44 has no ordered aggregates).
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import func, select
from sqlalchemy.sql.elements import ColumnElement


def json_rows(dialect: str, columns: list[Any], *where: Any) -> Any:
    """Scalar sub-select: a JSON array holding ``[col1, col2, …]`` per matching row."""
    if dialect == "postgresql":
        agg: ColumnElement[Any] = func.json_agg(func.json_build_array(*columns))
    else:
        agg = func.json_group_array(func.json_array(*columns))
    return select(agg).where(*where).scalar_subquery()


def decode(value: Any) -> list[Any]:
    """The aggregated column as a Python list (PostgreSQL gives NULL for no rows)."""
    if value is None:
        return []
    if isinstance(value, str | bytes):
        value = orjson.loads(value)
    return list(value)
